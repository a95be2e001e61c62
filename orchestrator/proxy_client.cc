#include "proxy_client.h"

#include <cstddef>

namespace lms::orchestrator {
namespace {

// Takes a C error string: returns it as a std::string and frees it.
std::string take(char* error) {
  std::string out = error != nullptr ? error : "unknown error";
  lms_control_free(error);
  return out;
}

control::Cutover to_model(const lms_control_cutover& c) {
  control::Cutover m;
  m.id = c.id;
  m.status = c.status;
  m.source_of_truth = c.source_of_truth;
  m.source_of_truth_role = c.source_of_truth_role;
  m.trigger_time_ns = c.trigger_time_ns;
  m.paused_time_ns = c.paused_time_ns;
  m.commit_time_ns = c.commit_time_ns;
  m.busy_sessions = c.busy_sessions;
  m.error = c.error;
  // 1.4: a library of an older minor fills a smaller struct.
  if (c.struct_size >= offsetof(lms_control_cutover, statements_failed) + sizeof c.statements_failed) {
    m.longest_stall_ns = c.longest_stall_ns;
    m.requests_queued = c.requests_queued;
    m.connections_queued = c.connections_queued;
    m.sessions_ended = c.sessions_ended;
    m.statements_replayed = c.statements_replayed;
    m.statements_failed = c.statements_failed;
  }
  return m;
}

// Runs a call returning an lms_control_cutover*, converting and destroying it.
template <typename Call>
bool cutover_call(lms_control* handle, const std::string& open_error, control::Cutover* out,
                  std::string* error, Call&& call) {
  if (handle == nullptr) {
    *error = open_error;
    return false;
  }
  char* err = nullptr;
  lms_control_cutover* c = call(handle, &err);
  if (c == nullptr) {
    *error = take(err);
    return false;
  }
  *out = to_model(*c);
  lms_control_cutover_destroy(c);
  return true;
}

// Runs a call returning a malloc'd string, copying and freeing it.
template <typename Call>
bool text_call(lms_control* handle, const std::string& open_error, std::string* out, std::string* error,
               Call&& call) {
  if (handle == nullptr) {
    *error = open_error;
    return false;
  }
  char* err = nullptr;
  char* text = call(handle, &err);
  if (text == nullptr) {
    *error = take(err);
    return false;
  }
  *out = text;
  lms_control_free(text);
  return true;
}

}  // namespace

ProxyClient::ProxyClient(const std::string& address, const TlsFiles& tls, uint32_t timeout_ms) {
  lms_control_options options{};
  options.struct_size = sizeof options;
  options.timeout_ms = timeout_ms;
  options.tls_ca_cert = tls.ca_cert.empty() ? nullptr : tls.ca_cert.c_str();
  options.tls_client_cert = tls.client_cert.empty() ? nullptr : tls.client_cert.c_str();
  options.tls_client_key = tls.client_key.empty() ? nullptr : tls.client_key.c_str();
  options.tls_server_name = tls.server_name.empty() ? nullptr : tls.server_name.c_str();
  char* err = nullptr;
  handle_ = lms_control_open(address.c_str(), &options, &err);
  if (handle_ == nullptr) open_error_ = take(err);
}

ProxyClient::~ProxyClient() { lms_control_close(handle_); }

bool ProxyClient::status(control::Status* out, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  lms_control_status* s = lms_control_get_status(handle_, &err);
  if (s == nullptr) {
    *error = take(err);
    return false;
  }
  out->version = s->version;
  out->sql_address = s->sql_address;
  out->shadow_mode = s->shadow_mode;
  out->source_dialect = s->source_dialect;
  out->target_dialect = s->target_dialect;
  out->source_address = s->source_address;
  out->target_address = s->target_address;
  out->source_of_truth = s->source_of_truth;
  out->source_of_truth_role = s->source_of_truth_role;
  out->transitioning = s->transitioning != 0;
  out->open_connections = s->open_connections;
  out->error = s->error;
  out->cutover = to_model(s->cutover);
  lms_control_status_destroy(s);
  return true;
}

bool ProxyClient::connections(std::vector<control::Connection>* out, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  lms_control_connections* list = lms_control_list_connections(handle_, &err);
  if (list == nullptr) {
    *error = take(err);
    return false;
  }
  for (size_t i = 0; i < list->count; ++i) {
    const lms_control_connection& c = list->items[i];
    control::Connection m;
    m.remote_address = c.remote_address;
    m.source_address = c.source_address;
    m.user = c.user;
    m.database = c.database;
    m.source_of_truth = c.source_of_truth;
    m.state = c.state;
    m.last_query = c.last_query;
    m.error = c.error;
    // 1.4: a library of an older minor fills a smaller struct.
    if (c.struct_size >= offsetof(lms_control_connection, held_state) + sizeof c.held_state &&
        c.held_state != nullptr) {
      m.held_state = c.held_state;
    }
    if (c.struct_size >= offsetof(lms_control_connection, database_address) + sizeof c.database_address &&
        c.database_address != nullptr) {
      m.database_address = c.database_address;
    }
    out->push_back(std::move(m));
  }
  lms_control_connections_destroy(list);
  return true;
}

bool ProxyClient::begin(const control::BeginOptions& options, control::Cutover* out, std::string* error) {
  lms_control_begin_options o{};
  o.struct_size = sizeof o;
  o.id = options.id;
  o.begin_timeout_ms = options.begin_timeout_ms;
  o.on_begin_timeout =
      options.abort_on_timeout ? LMS_ON_BEGIN_TIMEOUT_ABORT : LMS_ON_BEGIN_TIMEOUT_END_SESSIONS;
  return cutover_call(handle_, open_error_, out, error,
                      [&](lms_control* h, char** e) { return lms_control_cutover_begin(h, &o, e); });
}

bool ProxyClient::commit(uint64_t id, control::Cutover* out, std::string* error) {
  return cutover_call(handle_, open_error_, out, error,
                      [&](lms_control* h, char** e) { return lms_control_cutover_commit(h, id, e); });
}

bool ProxyClient::abort(uint64_t id, control::Cutover* out, std::string* error) {
  return cutover_call(handle_, open_error_, out, error,
                      [&](lms_control* h, char** e) { return lms_control_cutover_abort(h, id, e); });
}

bool ProxyClient::cutover(control::Cutover* out, std::string* error) {
  return cutover_call(handle_, open_error_, out, error,
                      [&](lms_control* h, char** e) { return lms_control_cutover_get(h, e); });
}

bool ProxyClient::replication_mark(const std::string& token, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  if (lms_control_replication_mark(handle_, token.c_str(), &err) == 0) {
    *error = take(err);
    return false;
  }
  return true;
}

bool ProxyClient::replication_seen(const std::string& token, bool* seen, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  *seen = lms_control_replication_seen(handle_, token.c_str(), &err) != 0;
  if (err != nullptr) {
    *error = take(err);
    return false;
  }
  return true;
}

bool ProxyClient::replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  uint8_t here = 0;
  uint8_t other = 0;
  if (lms_control_replication_prepare(handle_, &here, &other, &err) == 0) {
    *error = take(err);
    return false;
  }
  *created_on_truth = here != 0;
  *created_on_other = other != 0;
  return true;
}

bool ProxyClient::open_transactions(uint64_t min_age_ms, std::vector<control::OpenTransaction>* out,
                                    std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  lms_control_transactions* list = lms_control_open_transactions(handle_, min_age_ms, &err);
  if (list == nullptr) {
    *error = take(err);
    return false;
  }
  for (size_t i = 0; i < list->count; ++i) {
    const lms_control_transaction& t = list->items[i];
    out->push_back({t.session, t.client, t.user, t.state, t.statement, t.age_ms, {}, {}});
  }
  lms_control_transactions_destroy(list);
  return true;
}

bool ProxyClient::replication_position(control::ReplicationPosition* out, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  lms_control_replication_position* p = lms_control_get_replication_position(handle_, &err);
  if (p == nullptr) {
    *error = take(err);
    return false;
  }
  out->position = p->position;
  for (size_t i = 0; i < p->stream_count; ++i) {
    const lms_control_replication_stream& s = p->streams[i];
    out->streams.push_back({s.name, s.consumer, s.lag_bytes, s.active != 0});
  }
  lms_control_replication_position_destroy(p);
  return true;
}

bool ProxyClient::check_other_logins(std::vector<control::NameCheck>* out, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  lms_control_name_checks* checks = lms_control_check_other_logins(handle_, &err);
  if (checks == nullptr) {
    *error = take(err);
    return false;
  }
  for (size_t i = 0; i < checks->count; ++i) out->push_back({checks->items[i].name, checks->items[i].error});
  lms_control_name_checks_destroy(checks);
  return true;
}

bool ProxyClient::check_other_tables(const std::vector<std::string>& names,
                                     std::vector<control::NameCheck>* out, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  std::vector<const char*> asked;
  for (const std::string& n : names) asked.push_back(n.c_str());
  char* err = nullptr;
  lms_control_name_checks* checks = lms_control_check_other_tables(handle_, asked.data(), asked.size(), &err);
  if (checks == nullptr) {
    *error = take(err);
    return false;
  }
  for (size_t i = 0; i < checks->count; ++i) out->push_back({checks->items[i].name, checks->items[i].error});
  lms_control_name_checks_destroy(checks);
  return true;
}

bool ProxyClient::other_rows_written(uint64_t* rows, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  if (lms_control_other_rows_written(handle_, rows, &err) == 0) {
    *error = take(err);
    return false;
  }
  return true;
}

bool ProxyClient::fence_other(bool on, std::string* error) {
  if (handle_ == nullptr) {
    *error = open_error_;
    return false;
  }
  char* err = nullptr;
  if (lms_control_fence_other(handle_, on ? 1 : 0, &err) == 0) {
    *error = take(err);
    return false;
  }
  return true;
}

bool ProxyClient::shadow_report(std::string* json_text, std::string* error) {
  return text_call(handle_, open_error_, json_text, error, lms_control_shadow_report);
}

bool ProxyClient::metrics(std::string* text, std::string* error) {
  return text_call(handle_, open_error_, text, error, lms_control_metrics);
}

}  // namespace lms::orchestrator
