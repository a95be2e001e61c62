// Transaction pooling's bookkeeping (pgwire/pool_client.cc, pool_server.cc, pool_deferred_begin.cc,
// pool_unnamed_cache.cc) over a stream of events: two clients and two connections (the first keeps
// unnamed statements by name), each event a client message on its way to a connection, the head
// of a connection's answer, a lend, an abandoned transaction, a lone prepare or a BEGIN lms
// answers. Whatever the bytes, it must neither read out of bounds nor leave a connection owing a
// negative number of answers, and never hold more statements than its bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "pooling.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  constexpr uint32_t kMaxStatements = 3;
  const lms_kv params[] = {{{"application_name", 16}, {"fuzz", 4}},
                           {{"options", 7}, {"-c work_mem=5MB", 15}}};
  lms::pgwire::PoolClient clients[] = {lms::pgwire::PoolClient(params, 2),
                                       lms::pgwire::PoolClient(nullptr, 0)};
  lms::pgwire::PoolServer servers[] = {lms::pgwire::PoolServer(kMaxStatements),
                                       lms::pgwire::PoolServer(kMaxStatements)};
  servers[0].set_options(LMS_POOL_CACHE_UNNAMED);  // the other keeps unnamed statements unnamed
  size_t at = 0;
  std::vector<uint8_t> out;
  // Each event: a control byte (what, which client, which connection), a length byte, then that
  // many bytes of message.
  while (at + 2 <= size) {
    const uint8_t control = data[at];
    const size_t len = std::min<size_t>(data[at + 1], size - at - 2);
    const uint8_t* message = data + at + 2;
    at += 2 + len;
    lms::pgwire::PoolClient& client = clients[(control >> 3) & 1];
    lms::pgwire::PoolServer& server = servers[(control >> 4) & 1];
    out.clear();
    switch (control & 7) {
      case 0:
      case 1:
        server.client_message(
            client, (control & 0x20) != 0 ? lms::pgwire::Flavor::kCockroach : lms::pgwire::Flavor::kPostgres,
            message, len, (control & 1) == 0, out);
        break;
      case 2:
      case 3:
        server.server_message(message, len);
        break;
      case 4:
        server.lend(client, out);
        break;
      case 5:
        server.abandon(out);
        break;
      case 6:
        if ((control & 0x40) != 0) {
          client.answer_transaction_edge(message, len, (control & 0x20) != 0, out);
        } else {
          client.answer_alone(message, len, out);
        }
        break;
      default:
        (void)client.welcome(std::string_view(reinterpret_cast<const char*>(message), len));
        break;
    }
    if (server.statements() > kMaxStatements) std::abort();
  }
  return 0;
}
