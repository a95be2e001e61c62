// The client-facing handshake on arbitrary client bytes, under every authentication method, fed in
// pieces whose sizes the input chooses.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "dialect.h"

namespace {
const lms_dialect_functions kDialect = lms::pgwire::make_dialect_functions(5432, lms::pgwire::Flavor::kPostgres);
const char* const kMethods[] = {"trust", "password", "md5", "scram-sha-256"};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string method = kMethods[data[0] % 4];
  const size_t piece = 1 + data[1] % 64;
  data += 2;
  size -= 2;
  const std::string user = "alice", password = "pw";
  const lms_kv settings[] = {{{"auth_method", 11}, {method.data(), method.size()}},
                             {{"user", 4}, {user.data(), user.size()}},
                             {{"password", 8}, {password.data(), password.size()}}};
  void* front = kDialect.front_create(settings, 3);
  lms_emitter sink{sizeof(lms_emitter), nullptr, [](void*, const uint8_t*, size_t) {}};
  std::vector<uint8_t> pending;
  for (size_t at = 0; at < size; at += piece) {
    pending.insert(pending.end(), data + at, data + std::min(size, at + piece));
    size_t consumed = 0;
    lms_front_result result{};
    result.struct_size = sizeof result;
    const uint32_t status =
        kDialect.front_step(front, pending.data(), pending.size(), &consumed, &sink, &result);
    if (consumed > pending.size()) __builtin_trap();
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(consumed));
    if (status != LMS_HS_NEED_INPUT) break;
  }
  kDialect.front_destroy(front);
  return 0;
}
