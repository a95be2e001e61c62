// Transaction pooling's functions of the plugin ABI (1.10 to 1.13), over PoolClient and PoolServer.
#include "pooling.h"

namespace lms::pgwire {
namespace {

// What one call emits, gathered in a buffer of the calling thread's that keeps its capacity: the
// functions run on the workers' loops, one call at a time per thread, and on a pooled request most
// emit something (a statement made, a Bind pointed elsewhere), which a vector of its own would take
// from the heap and give back every time. The emitter only appends it to the core's buffers.
struct VectorEmit {
  std::vector<uint8_t>& bytes = scratch();
  VectorEmit() { bytes.clear(); }
  static std::vector<uint8_t>& scratch() {
    thread_local std::vector<uint8_t> buffer;
    return buffer;
  }
  void to(const lms_emitter* out) const {
    if (!bytes.empty()) out->emit(out->ctx, bytes.data(), bytes.size());
  }
};

void* pool_client_create_c(const lms_kv* params, size_t count) {
  try {
    return new PoolClient(params, count);
  } catch (...) {
    return nullptr;
  }
}
void pool_client_destroy_c(void* client) { delete static_cast<PoolClient*>(client); }
void* pool_server_create_c(uint32_t max_statements) {
  try {
    return new PoolServer(max_statements);
  } catch (...) {
    return nullptr;
  }
}
void pool_server_destroy_c(void* server) { delete static_cast<PoolServer*>(server); }

void pool_welcome_c(void* client, const uint8_t* welcome, size_t len, const lms_emitter* out) {
  const std::string rewritten = static_cast<PoolClient*>(client)->welcome(
      std::string_view(reinterpret_cast<const char*>(welcome), len));
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(rewritten.data()), rewritten.size());
}

void pool_lend_c(void* client, void* server, const lms_emitter* to_server) {
  VectorEmit e;
  static_cast<PoolServer*>(server)->lend(*static_cast<PoolClient*>(client), e.bytes);
  e.to(to_server);
}

template <Flavor kFlavor>
uint32_t pool_client_message_c(void* client, void* server, const uint8_t* message, size_t len, uint8_t whole,
                               const lms_emitter* to_server) {
  VectorEmit e;
  const uint32_t verdict = static_cast<PoolServer*>(server)->client_message(
      *static_cast<PoolClient*>(client), kFlavor, message, len, whole != 0, e.bytes);
  e.to(to_server);
  return verdict;
}

uint32_t pool_server_message_c(void* server, const uint8_t* head, size_t len) {
  return static_cast<PoolServer*>(server)->server_message(head, len);
}

void pool_abandon_c(void* server, const lms_emitter* to_server) {
  VectorEmit e;
  static_cast<PoolServer*>(server)->abandon(e.bytes);
  e.to(to_server);
}

uint32_t pool_answer_alone_c(void* client, const uint8_t* requests, size_t len,
                             const lms_emitter* to_client) {
  VectorEmit e;
  if (!static_cast<PoolClient*>(client)->answer_alone(requests, len, e.bytes)) return 0;
  e.to(to_client);
  return 1;
}

template <Flavor kFlavor>
uint32_t pool_defer_begin_c(void* client, const uint8_t* requests, size_t len, const lms_emitter* to_client) {
  VectorEmit e;
  if (!static_cast<PoolClient*>(client)->answer_transaction_edge(requests, len, kFlavor == Flavor::kCockroach,
                                                                 e.bytes)) {
    return 0;
  }
  e.to(to_client);
  return 1;
}

uint32_t pool_owed_c(void* server) { return static_cast<PoolServer*>(server)->owed(); }
uint32_t pool_statements_c(void* server) { return static_cast<PoolServer*>(server)->statements(); }
void pool_statement_work_c(void* server, uint64_t* made, uint64_t* evicted) {
  const PoolServer::StatementWork work = static_cast<PoolServer*>(server)->take_statement_work();
  *made = work.made;
  *evicted = work.evicted;
}

void pool_server_options_c(void* server, uint32_t options) {
  static_cast<PoolServer*>(server)->set_options(options);
}

}  // namespace

void fill_pool_functions(lms_dialect_functions& f, Flavor flavor) {
  f.pool_client_create = pool_client_create_c;
  f.pool_client_destroy = pool_client_destroy_c;
  f.pool_server_create = pool_server_create_c;
  f.pool_server_destroy = pool_server_destroy_c;
  f.pool_welcome = pool_welcome_c;
  f.pool_lend = pool_lend_c;
  f.pool_client_message = flavor == Flavor::kCockroach ? pool_client_message_c<Flavor::kCockroach>
                                                       : pool_client_message_c<Flavor::kPostgres>;
  f.pool_server_message = pool_server_message_c;
  f.pool_abandon = pool_abandon_c;
  f.pool_owed = pool_owed_c;
  f.pool_statements = pool_statements_c;
  f.pool_answer_alone = pool_answer_alone_c;
  f.pool_statement_work = pool_statement_work_c;
  f.pool_defer_begin = flavor == Flavor::kCockroach ? pool_defer_begin_c<Flavor::kCockroach>
                                                    : pool_defer_begin_c<Flavor::kPostgres>;
  f.pool_server_options = pool_server_options_c;
}

}  // namespace lms::pgwire
