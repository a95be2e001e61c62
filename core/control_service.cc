#include "control_service.h"

#include <lms/control.h>

#include <cctype>
#include <map>
#include <memory>

#include <spdlog/spdlog.h>

#include "emit_into.h"
#include "json.h"
#include "loop/worker_fanout.h"
#include "plugin_loader.h"
#include "session/session.h"

namespace lms::core {
namespace {

constexpr uint32_t kStatementTimeoutMs = 5000;
constexpr size_t kMaxShownStatementBytes = 1024;

std::string host_port(const Endpoint& e) { return e.host + ":" + std::to_string(e.port); }

// Tokens go into SQL text: only a safe alphabet is accepted.
bool valid_token(const std::string& token) {
  if (token.empty() || token.size() > 64) return false;
  for (const char c : token) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

}  // namespace

ControlService::ControlService(ProxyShared& shared, std::vector<Worker*> workers, CutoverController& cutover,
                               ProxyViews views)
    : shared_(shared), workers_(std::move(workers)), cutover_(cutover), views_(std::move(views)) {}

bool ControlService::status(control::Status* out, std::string*) {
  const Config& config = *shared_.config;
  out->version = LMS_VERSION;
  out->sql_address = config.listen.host + ":" + std::to_string(config.listen.port);
  out->shadow_mode = config.shadow_mode;
  out->source_dialect = control::display_dialect(config.source_dialect);
  out->target_dialect = shared_.target != nullptr ? control::display_dialect(config.target_dialect) : "";
  out->source_address = host_port(*shared_.source);
  out->target_address = shared_.target != nullptr ? host_port(*shared_.target) : "";
  out->source_of_truth = cutover_.truth_name();
  out->source_of_truth_role = cutover_.truth_role();
  out->transitioning = cutover_.transitioning();
  out->open_connections = shared_.open_sessions.load();
  std::string reason;
  if (!views_.ready(&reason)) out->error = "the source of truth does not answer: " + reason;
  out->cutover = cutover_.current();
  return true;
}

bool ControlService::connections(std::vector<control::Connection>* out, std::string* error) {
  auto parts = ask_every_worker(workers_, [](Worker& w) {
    std::vector<control::Connection> mine;
    w.for_each_session([&](Session& s) { mine.push_back(s.describe()); });
    return mine;
  });
  if (!parts.all_answered) {
    *error = "a worker did not answer within " + std::to_string(kWorkerAnswerTimeout.count()) + " s";
    return false;
  }
  for (auto& part : parts.answers) {
    for (auto& c : part) {
      if (c.state != "closing") out->push_back(std::move(c));
    }
  }
  return true;
}

bool ControlService::execute(uint8_t role, const std::string& sql, uint64_t* rows, std::string* error) {
  if (role == kTargetRole && shared_.target == nullptr) {
    *error = "no target database is configured";
    return false;
  }
  const lms_dialect_functions* dialect = shared_.dialect_of(role);
  if (!has_execute(dialect)) {
    *error = "the dialect of the " + std::string(role == kTargetRole ? "target" : "source") +
             " cannot run statements of its own";
    return false;
  }
  const auto params = shared_.endpoint(role).kvs();
  char reason[512] = {};
  if (dialect->execute(params.data(), params.size(), sql.data(), sql.size(), kStatementTimeoutMs, rows,
                       reason, sizeof reason) != LMS_OK) {
    *error = std::string(role == kTargetRole ? "target" : "source") + " " +
             shared_.endpoint(role).describe() + ": " + reason;
    return false;
  }
  return true;
}

bool ControlService::open_transactions(uint64_t min_age_ms, std::vector<control::OpenTransaction>* out,
                                       std::string* error) {
  const uint8_t truth = shared_.truth.load();
  const lms_dialect_functions* dialect = shared_.dialect_of(truth);
  const std::string which =
      std::string(truth == kTargetRole ? "target" : "source") + " " + shared_.endpoint(truth).describe();
  if (!has_open_transactions(dialect)) {
    *error = "the dialect of the " + which + " cannot list its open transactions";
    return false;
  }
  const auto params = shared_.endpoint(truth).kvs();
  // The plugin calls back with each row; nothing thrown here may cross into it.
  const lms_transaction_sink sink{out, [](void* ctx, const lms_open_transaction* t) {
                                    auto text = [](lms_str s) {
                                      return std::string(s.data != nullptr ? s.data : "", s.len);
                                    };
                                    try {
                                      static_cast<std::vector<control::OpenTransaction>*>(ctx)->push_back(
                                          {text(t->session),
                                           text(t->client),
                                           text(t->user),
                                           text(t->state),
                                           text(t->statement),
                                           t->age_ms,
                                           {},
                                           {}});
                                    } catch (...) {  // out of memory: the list is shorter
                                    }
                                  }};
  char reason[512] = {};
  if (dialect->open_transactions(params.data(), params.size(), min_age_ms, kStatementTimeoutMs, &sink, reason,
                                 sizeof reason) != LMS_OK) {
    *error = which + ": " + reason;
    return false;
  }
  // Shown as `connections list` shows statements: a literal can be a password.
  for (control::OpenTransaction& t : *out) {
    const std::string whole = std::move(t.statement);
    shape_statement(dialect, {whole.data(), whole.size()}, kMaxShownStatementBytes, &t.statement);
  }
  return true;
}

bool ControlService::other_role(bool (*has_what)(const lms_dialect_functions*), const char* what,
                                uint8_t* role, std::string* error) {
  *role = shared_.truth.load() == kTargetRole ? kSourceRole : kTargetRole;
  if (*role == kTargetRole && shared_.target == nullptr) {
    *error = "no target database is configured";
    return false;
  }
  if (!has_what(shared_.dialect_of(*role))) {
    *error = "the dialect of the " + std::string(*role == kTargetRole ? "target" : "source") + " " +
             shared_.endpoint(*role).describe() + " cannot " + what;
    return false;
  }
  return true;
}

bool ControlService::other_rows_written(uint64_t* rows, std::string* error) {
  uint8_t role = 0;
  if (!other_role(has_rows_written, "count the rows written to it", &role, error)) return false;
  const auto params = shared_.endpoint(role).kvs();
  char reason[512] = {};
  if (shared_.dialect_of(role)->rows_written(params.data(), params.size(), kStatementTimeoutMs, rows, reason,
                                             sizeof reason) != LMS_OK) {
    *error = std::string(role == kTargetRole ? "target " : "source ") + shared_.endpoint(role).describe() +
             ": " + reason;
    return false;
  }
  return true;
}

bool ControlService::fence_other(bool on, std::string* error) {
  uint8_t role = 0;
  if (!other_role(has_fence, "be fenced", &role, error)) return false;
  const auto params = shared_.endpoint(role).kvs();
  char reason[512] = {};
  if (shared_.dialect_of(role)->fence(params.data(), params.size(), on ? 1 : 0, kStatementTimeoutMs, reason,
                                      sizeof reason) != LMS_OK) {
    *error = std::string(role == kTargetRole ? "target " : "source ") + shared_.endpoint(role).describe() +
             ": " + reason;
    return false;
  }
  spdlog::info("{} the {} database {}: {}", on ? "fenced" : "unfenced",
               role == kTargetRole ? "target" : "source", shared_.endpoint(role).describe(),
               on ? "ordinary sessions' writes are refused there" : "writes are accepted there again");
  return true;
}

bool ControlService::replication_mark(const std::string& token, std::string* error) {
  if (!valid_token(token)) {
    *error = "a marker token is 1 to 64 letters, digits, '-' or '_'";
    return false;
  }
  const uint8_t truth = shared_.truth.load();
  uint64_t rows = 0;
  // One round trip on one connection: the marker's latency is part of the cutover's stall.
  return execute(truth, marker_table_ddl() + "; INSERT INTO " + kMarkerTable + " (token) VALUES ('" + token + "')",
                 &rows, error);
}

std::string ControlService::marker_table_ddl() {
  // Words PostgreSQL, CockroachDB and MySQL all take alike.
  return std::string("CREATE TABLE IF NOT EXISTS ") + kMarkerTable +
         " (token VARCHAR(64) PRIMARY KEY, written_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)";
}

bool ControlService::ensure_marker_table(uint8_t role, bool* created, std::string* error) {
  uint64_t rows = 0;
  *created = false;
  // Reading it is what tells "there" from "missing" in every dialect alike; when the read fails,
  // the table is made, and a failure to make it is the error the operator sees.
  std::string missing;
  if (execute(role, std::string("SELECT token FROM ") + kMarkerTable + " WHERE 1 = 0", &rows, &missing)) return true;
  if (!execute(role, marker_table_ddl(), &rows, error)) {
    *error += " (reading the table first: " + missing + ")";
    return false;
  }
  *created = true;
  return true;
}

bool ControlService::replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error) {
  const uint8_t truth = shared_.truth.load();
  const uint8_t other = truth == kTargetRole ? kSourceRole : kTargetRole;
  return ensure_marker_table(truth, created_on_truth, error) && ensure_marker_table(other, created_on_other, error);
}

bool ControlService::replication_seen(const std::string& token, bool* seen, std::string* error) {
  if (!valid_token(token)) {
    *error = "a marker token is 1 to 64 letters, digits, '-' or '_'";
    return false;
  }
  const uint8_t other = shared_.truth.load() == kTargetRole ? kSourceRole : kTargetRole;
  uint64_t rows = 0;
  if (!execute(other, std::string("SELECT 1 FROM ") + kMarkerTable + " WHERE token = '" + token + "'", &rows,
               error)) {
    return false;
  }
  *seen = rows > 0;
  return true;
}

bool ControlService::replication_position(control::ReplicationPosition* out, std::string* error) {
  const uint8_t truth = shared_.truth.load();
  const lms_dialect_functions* dialect = shared_.dialect_of(truth);
  const std::string which =
      std::string(truth == kTargetRole ? "target" : "source") + " " + shared_.endpoint(truth).describe();
  if (!has_replication_position(dialect)) {
    *error = "the dialect of the " + which + " cannot tell its replication position";
    return false;
  }
  const auto params = shared_.endpoint(truth).kvs();
  // The plugin calls back; nothing thrown here may cross into it.
  const lms_replication_sink sink{out,
                                  [](void* ctx, lms_str position) {
                                    try {
                                      static_cast<control::ReplicationPosition*>(ctx)->position.assign(
                                          position.data != nullptr ? position.data : "", position.len);
                                    } catch (...) {
                                    }
                                  },
                                  [](void* ctx, const lms_replication_stream* s) {
                                    auto text = [](lms_str v) {
                                      return std::string(v.data != nullptr ? v.data : "", v.len);
                                    };
                                    try {
                                      static_cast<control::ReplicationPosition*>(ctx)->streams.push_back(
                                          {text(s->name), text(s->consumer), s->lag_bytes, s->active != 0});
                                    } catch (...) {  // out of memory: the list is shorter
                                    }
                                  }};
  char reason[512] = {};
  if (dialect->replication_position(params.data(), params.size(), kStatementTimeoutMs, &sink, reason,
                                    sizeof reason) != LMS_OK) {
    *error = which + ": " + reason;
    return false;
  }
  return true;
}

namespace {

// A table's name as SQL names it: identifiers, dots between them, and quoted parts ("Order",
// `order`) without their quote inside. Nothing that could end the statement it is put in.
bool table_name_is_plain(const std::string& name) {
  if (name.empty() || name.size() > 256) return false;
  char quote = 0;
  for (const char c : name) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '`') {
      quote = c;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '.')) {
      return false;
    }
  }
  return quote == 0;
}

}  // namespace

bool ControlService::check_other_tables(const std::vector<std::string>& names,
                                        std::vector<control::NameCheck>* out, std::string* error) {
  constexpr size_t kMaxTables = 64;
  if (names.size() > kMaxTables) {
    *error = "at most " + std::to_string(kMaxTables) + " tables at a time";
    return false;
  }
  for (const std::string& name : names) {
    if (!table_name_is_plain(name)) {
      *error = "not a table name: " + name.substr(0, 80);
      return false;
    }
  }
  const uint8_t other = shared_.truth.load() == kTargetRole ? kSourceRole : kTargetRole;
  // Reading no row of it answers whether the table is there for the proxy's account, with the
  // database's own error when not; each on its own connection, so one failure taints no other.
  for (const std::string& name : names) {
    control::NameCheck check{name, ""};
    uint64_t rows = 0;
    if (!execute(other, "SELECT 1 FROM " + name + " WHERE 1 = 0", &rows, &check.error) &&
        check.error.empty()) {
      check.error = "unknown error";
    }
    out->push_back(std::move(check));
  }
  return true;
}

bool ControlService::check_other_logins(std::vector<control::NameCheck>* out, std::string* error) {
  const std::shared_ptr<const FrontSettings> settings = shared_.front_settings.load();
  if (settings->users().empty()) return true;  // every session is the connection string's account
  uint8_t role = 0;
  if (!other_role(has_list_logins, "list its users", &role, error)) return false;
  // The other database's users, read as the source's are (the same query, or pg_authid).
  const std::string query = shared_.config->auth_query == "default" ? "" : shared_.config->auth_query;
  std::map<std::string, std::string> there;
  const lms_login_sink sink{&there, [](void* ctx, lms_str user, lms_str verifier) {
                              try {
                                static_cast<std::map<std::string, std::string>*>(ctx)->emplace(
                                    std::string(user.data, user.len),
                                    std::string(verifier.data, verifier.len));
                              } catch (...) {  // out of memory: reported as missing
                              }
                            }};
  const auto params = shared_.endpoint(role).kvs();
  char reason[512] = {};
  if (shared_.dialect_of(role)->list_logins(params.data(), params.size(), query.data(), query.size(),
                                            kStatementTimeoutMs, &sink, reason, sizeof reason) != LMS_OK) {
    *error = std::string(role == kTargetRole ? "target " : "source ") + shared_.endpoint(role).describe() +
             ": cannot list its users: " + reason;
    return false;
  }
  for (const auto& [user, verifier] : settings->users()) {
    const auto it = there.find(user);
    // A user with its own password for the target in the secret logs in with that, whatever the
    // target's verifier.
    const bool own_password = role == kTargetRole && shared_.config->target_users.count(user) > 0;
    std::string problem;
    if (it == there.end()) {
      problem = "no such user there";
    } else if (it->second != verifier && !own_password) {
      problem = "another password there (its verifier differs)";
    }
    out->push_back({user, problem});
  }
  return true;
}

}  // namespace lms::core
