// lms/control.h over a Backend. Each object handed to the caller is one allocation that owns
// copies of its strings, so the caller frees it with one call and nothing points into the backend.
#include <cstddef>
#include <lms/control.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "http_backend.h"
#include "model.h"

struct lms_control {
  std::unique_ptr<lms::control::Backend> backend;
};

namespace lms::control {
namespace {

// A malloc'd copy of `text`, as the ABI hands strings to the caller.
char* copy_out(const std::string& text) {
  auto* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

void set_error(char** errptr, const std::string& message) {
  if (errptr == nullptr) return;
  std::free(*errptr);
  *errptr = copy_out(message);
}

// The C object first, then the strings it points at; the C struct is the first member so the
// caller's pointer is the holder's.
struct CutoverHolder {
  lms_control_cutover c{};
  Cutover model;
};

void fill(lms_control_cutover& c, const Cutover& m) {
  c.struct_size = sizeof c;
  c.id = m.id;
  c.status = m.status.c_str();
  c.source_of_truth = m.source_of_truth.c_str();
  c.source_of_truth_role = m.source_of_truth_role.c_str();
  c.trigger_time_ns = m.trigger_time_ns;
  c.paused_time_ns = m.paused_time_ns;
  c.commit_time_ns = m.commit_time_ns;
  c.busy_sessions = m.busy_sessions;
  c.error = m.error.c_str();
  c.longest_stall_ns = m.longest_stall_ns;
  c.requests_queued = m.requests_queued;
  c.connections_queued = m.connections_queued;
  c.sessions_ended = m.sessions_ended;
  c.statements_replayed = m.statements_replayed;
  c.statements_failed = m.statements_failed;
}

lms_control_cutover* make_cutover(Cutover model) {
  auto* h = new (std::nothrow) CutoverHolder;
  if (h == nullptr) return nullptr;
  h->model = std::move(model);
  fill(h->c, h->model);
  return &h->c;
}

struct StatusHolder {
  lms_control_status c{};
  Status model;
};

struct ConnectionsHolder {
  lms_control_connections c{};
  std::vector<Connection> models;
  std::vector<lms_control_connection> items;
};

struct TransactionsHolder {
  lms_control_transactions c{};
  std::vector<OpenTransaction> models;
  std::vector<lms_control_transaction> items;
};

struct PositionHolder {
  lms_control_replication_position c{};
  ReplicationPosition model;
  std::vector<lms_control_replication_stream> items;
};

struct NameChecksHolder {
  lms_control_name_checks c{};
  std::vector<NameCheck> models;
  std::vector<lms_control_name_check> items;
};

// Runs one backend call, turning a failure or an exception into *errptr.
template <typename Call>
bool run(lms_control* control, char** errptr, Call&& call) {
  if (control == nullptr || !control->backend) {
    set_error(errptr, "lms_control: no handle");
    return false;
  }
  try {
    std::string error;
    if (call(*control->backend, &error)) return true;
    set_error(errptr, error.empty() ? "unknown error" : error);
  } catch (const std::exception& e) {
    set_error(errptr, e.what());
  }
  return false;
}

}  // namespace
}  // namespace lms::control

using namespace lms::control;

extern "C" {

lms_control* lms_control_open(const char* address, const lms_control_options* options, char** errptr) {
  try {
    ClientOptions client;
    if (options != nullptr) {
      if (options->timeout_ms != 0) client.timeout_ms = options->timeout_ms;
      if (options->tls_ca_cert != nullptr) client.tls_ca_cert = options->tls_ca_cert;
      if (options->tls_client_cert != nullptr) client.tls_client_cert = options->tls_client_cert;
      if (options->tls_client_key != nullptr) client.tls_client_key = options->tls_client_key;
      if (options->struct_size >= offsetof(lms_control_options, tls_server_name) + sizeof(const char*) &&
          options->tls_server_name != nullptr) {
        client.tls_server_name = options->tls_server_name;
      }
    }
    std::string url;
    std::string error;
    if (address == nullptr || !normalize_address(address, 9044, &url, &error)) {
      set_error(errptr, address == nullptr ? "no address" : error);
      return nullptr;
    }
    return new lms_control{make_http_backend(url, client)};
  } catch (const std::exception& e) {
    set_error(errptr, e.what());
    return nullptr;
  }
}

void lms_control_close(lms_control* control) { delete control; }

void lms_control_free(void* ptr) { std::free(ptr); }

lms_control_status* lms_control_get_status(lms_control* control, char** errptr) {
  auto holder = std::make_unique<StatusHolder>();
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.status(&holder->model, e); })) {
    return nullptr;
  }
  const Status& m = holder->model;
  lms_control_status& c = holder->c;
  c.struct_size = sizeof c;
  c.version = m.version.c_str();
  c.sql_address = m.sql_address.c_str();
  c.shadow_mode = m.shadow_mode.c_str();
  c.source_dialect = m.source_dialect.c_str();
  c.target_dialect = m.target_dialect.c_str();
  c.source_address = m.source_address.c_str();
  c.target_address = m.target_address.c_str();
  c.source_of_truth = m.source_of_truth.c_str();
  c.source_of_truth_role = m.source_of_truth_role.c_str();
  c.transitioning = m.transitioning ? 1 : 0;
  c.open_connections = m.open_connections;
  c.error = m.error.c_str();
  fill(c.cutover, m.cutover);
  return &holder.release()->c;
}

void lms_control_status_destroy(lms_control_status* status) {
  delete reinterpret_cast<StatusHolder*>(status);
}

lms_control_connections* lms_control_list_connections(lms_control* control, char** errptr) {
  auto holder = std::make_unique<ConnectionsHolder>();
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.connections(&holder->models, e); })) {
    return nullptr;
  }
  for (const Connection& m : holder->models) {
    lms_control_connection c{};
    c.struct_size = sizeof c;
    c.remote_address = m.remote_address.c_str();
    c.source_address = m.source_address.c_str();
    c.user = m.user.c_str();
    c.database = m.database.c_str();
    c.source_of_truth = m.source_of_truth.c_str();
    c.state = m.state.c_str();
    c.last_query = m.last_query.c_str();
    c.error = m.error.c_str();
    c.held_state = m.held_state.c_str();
    c.database_address = m.database_address.c_str();
    holder->items.push_back(c);
  }
  holder->c.struct_size = sizeof holder->c;
  holder->c.count = holder->items.size();
  holder->c.items = holder->items.data();
  return &holder.release()->c;
}

void lms_control_connections_destroy(lms_control_connections* connections) {
  delete reinterpret_cast<ConnectionsHolder*>(connections);
}

lms_control_transactions* lms_control_open_transactions(lms_control* control, uint64_t min_age_ms,
                                                        char** errptr) {
  auto holder = std::make_unique<TransactionsHolder>();
  if (!run(control, errptr,
           [&](Backend& b, std::string* e) { return b.open_transactions(min_age_ms, &holder->models, e); })) {
    return nullptr;
  }
  for (const OpenTransaction& m : holder->models) {
    lms_control_transaction t{};
    t.struct_size = sizeof t;
    t.session = m.session.c_str();
    t.client = m.client.c_str();
    t.user = m.user.c_str();
    t.state = m.state.c_str();
    t.statement = m.statement.c_str();
    t.age_ms = m.age_ms;
    holder->items.push_back(t);
  }
  holder->c.struct_size = sizeof holder->c;
  holder->c.count = holder->items.size();
  holder->c.items = holder->items.data();
  return &holder.release()->c;
}

uint8_t lms_control_other_rows_written(lms_control* control, uint64_t* rows, char** errptr) {
  uint64_t value = 0;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.other_rows_written(&value, e); }))
    return 0;
  if (rows != nullptr) *rows = value;
  return 1;
}

uint8_t lms_control_fence_other(lms_control* control, uint8_t on, char** errptr) {
  return run(control, errptr, [&](Backend& b, std::string* e) { return b.fence_other(on != 0, e); }) ? 1 : 0;
}

lms_control_replication_position* lms_control_get_replication_position(lms_control* control, char** errptr) {
  auto holder = std::make_unique<PositionHolder>();
  if (!run(control, errptr,
           [&](Backend& b, std::string* e) { return b.replication_position(&holder->model, e); }))
    return nullptr;
  for (const ReplicationStream& m : holder->model.streams) {
    lms_control_replication_stream s{};
    s.struct_size = sizeof s;
    s.name = m.name.c_str();
    s.consumer = m.consumer.c_str();
    s.lag_bytes = m.lag_bytes;
    s.active = m.active ? 1 : 0;
    holder->items.push_back(s);
  }
  holder->c.struct_size = sizeof holder->c;
  holder->c.position = holder->model.position.c_str();
  holder->c.stream_count = holder->items.size();
  holder->c.streams = holder->items.data();
  return &holder.release()->c;
}

void lms_control_replication_position_destroy(lms_control_replication_position* position) {
  delete reinterpret_cast<PositionHolder*>(position);
}

namespace {

lms_control_name_checks* name_checks_out(std::unique_ptr<lms::control::NameChecksHolder> holder) {
  for (const lms::control::NameCheck& m : holder->models) {
    lms_control_name_check t{};
    t.struct_size = sizeof t;
    t.name = m.name.c_str();
    t.error = m.error.c_str();
    holder->items.push_back(t);
  }
  holder->c.struct_size = sizeof holder->c;
  holder->c.count = holder->items.size();
  holder->c.items = holder->items.data();
  return &holder.release()->c;
}

}  // namespace

lms_control_name_checks* lms_control_check_other_tables(lms_control* control, const char* const* names,
                                                        size_t count, char** errptr) {
  std::vector<std::string> asked;
  for (size_t i = 0; i < count; ++i)
    asked.emplace_back(names != nullptr && names[i] != nullptr ? names[i] : "");
  auto holder = std::make_unique<NameChecksHolder>();
  if (!run(control, errptr,
           [&](Backend& b, std::string* e) { return b.check_other_tables(asked, &holder->models, e); }))
    return nullptr;
  return name_checks_out(std::move(holder));
}

lms_control_name_checks* lms_control_check_other_logins(lms_control* control, char** errptr) {
  auto holder = std::make_unique<NameChecksHolder>();
  if (!run(control, errptr,
           [&](Backend& b, std::string* e) { return b.check_other_logins(&holder->models, e); }))
    return nullptr;
  return name_checks_out(std::move(holder));
}

void lms_control_name_checks_destroy(lms_control_name_checks* checks) {
  delete reinterpret_cast<NameChecksHolder*>(checks);
}

void lms_control_transactions_destroy(lms_control_transactions* transactions) {
  delete reinterpret_cast<TransactionsHolder*>(transactions);
}

lms_control_cutover* lms_control_cutover_begin(lms_control* control, const lms_control_begin_options* options,
                                               char** errptr) {
  if (options == nullptr || options->struct_size < sizeof(lms_control_begin_options)) {
    set_error(errptr, "lms_control_cutover_begin: options missing or too small");
    return nullptr;
  }
  BeginOptions begin;
  begin.id = options->id;
  begin.begin_timeout_ms = options->begin_timeout_ms;
  begin.abort_on_timeout = options->on_begin_timeout == LMS_ON_BEGIN_TIMEOUT_ABORT;
  Cutover out;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.begin(begin, &out, e); }))
    return nullptr;
  return make_cutover(std::move(out));
}

lms_control_cutover* lms_control_cutover_commit(lms_control* control, uint64_t id, char** errptr) {
  Cutover out;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.commit(id, &out, e); }))
    return nullptr;
  return make_cutover(std::move(out));
}

lms_control_cutover* lms_control_cutover_abort(lms_control* control, uint64_t id, char** errptr) {
  Cutover out;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.abort(id, &out, e); })) return nullptr;
  return make_cutover(std::move(out));
}

lms_control_cutover* lms_control_cutover_get(lms_control* control, char** errptr) {
  Cutover out;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.cutover(&out, e); })) return nullptr;
  return make_cutover(std::move(out));
}

void lms_control_cutover_destroy(lms_control_cutover* cutover) {
  delete reinterpret_cast<CutoverHolder*>(cutover);
}

uint8_t lms_control_replication_mark(lms_control* control, const char* token, char** errptr) {
  const std::string t = token == nullptr ? "" : token;
  return run(control, errptr, [&](Backend& b, std::string* e) { return b.replication_mark(t, e); }) ? 1 : 0;
}

uint8_t lms_control_replication_seen(lms_control* control, const char* token, char** errptr) {
  const std::string t = token == nullptr ? "" : token;
  bool seen = false;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.replication_seen(t, &seen, e); }))
    return 0;
  return seen ? 1 : 0;
}

uint8_t lms_control_replication_prepare(lms_control* control, uint8_t* created_on_truth, uint8_t* created_on_other,
                                        char** errptr) {
  bool here = false;
  bool other = false;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.replication_prepare(&here, &other, e); }))
    return 0;
  if (created_on_truth != nullptr) *created_on_truth = here ? 1 : 0;
  if (created_on_other != nullptr) *created_on_other = other ? 1 : 0;
  return 1;
}

char* lms_control_shadow_report(lms_control* control, char** errptr) {
  std::string text;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.shadow_report(&text, e); })) return nullptr;
  return copy_out(text);
}

char* lms_control_metrics(lms_control* control, char** errptr) {
  std::string text;
  if (!run(control, errptr, [&](Backend& b, std::string* e) { return b.metrics(&text, e); })) return nullptr;
  return copy_out(text);
}

}  // extern "C"
