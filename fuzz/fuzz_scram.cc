// The SCRAM messages both sides parse: the server's view of client-first and client-final, the
// client's view of server-first and server-final.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scram.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const lms::pgwire::ScramVerifier verifier = lms::pgwire::make_scram_verifier("pw", "salt", 16);
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t cut = input.find('\n');
  const std::string_view first = input.substr(0, cut);
  const std::string_view second = cut == input.npos ? std::string_view() : input.substr(cut + 1);
  std::string error;
  lms::pgwire::ScramServer server(verifier, "servernonce");
  if (server.on_client_first(first, &error)) server.on_client_final(second, &error);
  lms::pgwire::ScramClient client("pw", "", "clientnonce");
  // Few iterations keep the fuzzer fast; an absurd count is refused by the parser's digit limit.
  if (client.on_server_first(first, &error)) client.on_server_final(second, &error);
  return 0;
}
