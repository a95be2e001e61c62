#include "readiness_checks.h"

#include <lms/control.h>

#include <cstdio>
#include <iterator>
#include <string_view>
#include <unordered_map>

namespace lms::orchestrator {
namespace {

ReadinessCheck proxies_agree(const ReadinessInputs& in) {
  ReadinessCheck c{"proxies answer and agree", "pass", ""};
  // The same rule begin applies, so a pass here is a begin that will not be refused for it.
  if (std::string why = begin_refusal(in.proxies, in.configured_dialect); !why.empty()) {
    c.result = "fail";
    c.detail = why;
    return c;
  }
  c.detail = std::to_string(in.proxies.size()) + " proxies, all served by " +
             in.proxies.front().status.source_of_truth + " (" + in.proxies.front().status.source_of_truth_role + ")";
  return c;
}

ReadinessCheck other_database(const ReadinessInputs& in) {
  ReadinessCheck c{"every proxy has a database to switch to", "pass", ""};
  for (const ProxyStatus& p : in.proxies) {
    if (p.error.empty() && p.status.target_address.empty()) {
      c.result = "fail";
      c.detail = p.status.sql_address + " has no target configured";
      return c;
    }
  }
  if (!in.proxies.empty()) c.detail = "target " + in.proxies.front().status.target_address;
  return c;
}

ReadinessCheck no_attempt_running(const ReadinessInputs& in) {
  ReadinessCheck c{"no cutover in progress", "pass", "no attempt yet"};
  if (in.latest == nullptr) return c;
  const std::string status = in.latest->status();
  if (status == LMS_CUTOVER_BEGAN || status == LMS_CUTOVER_PAUSED || status == "Committing") {
    c.result = "fail";
    c.detail = "cutover " + std::to_string(in.latest->id) + " is " + status + ": commit or abort it first";
  } else {
    c.detail = "the last attempt (" + std::to_string(in.latest->id) + ") is " + status;
  }
  return c;
}

std::string percent(double share) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f%%", share * 100);
  return text;
}

ReadinessCheck shadow_results(const ReadinessInputs& in) {
  ReadinessCheck c{"the target answers as the source does", "pass", ""};
  const nlohmann::json& r = in.report;
  const uint64_t compared = r.value("compared", uint64_t{0});
  const uint64_t target_errors = r.value("target_errors", uint64_t{0});
  const uint64_t mismatches = r.value("mismatches", uint64_t{0});
  if (compared == 0) {
    c.result = "warn";
    c.detail = "nothing compared yet (shadow mode " + r.value("shadow_mode", std::string("?")) +
               "): the target's answers are unproven";
    return c;
  }
  c.detail = std::to_string(compared) + " answers compared, " + std::to_string(target_errors) +
             " target errors, " + std::to_string(mismatches) + " mismatches";
  bool fails = target_errors > 0;
  if (in.max_mismatch_rate) {
    // The operator's gate: differences of either kind, as a share of what was compared.
    const double rate = static_cast<double>(target_errors + mismatches) / static_cast<double>(compared);
    fails = rate > *in.max_mismatch_rate;
    c.detail += " (" + percent(rate) + (fails ? ", above" : ", within") + " --max-mismatch-rate " +
                percent(*in.max_mismatch_rate) + ")";
  }
  if (fails) {
    c.result = "fail";
    for (const auto& s : r.value("statements", nlohmann::json::array())) {
      if (s.value("target_errors", uint64_t{0}) > 0) {
        c.detail += "; first: " + s.value("statement", std::string()) + ": " + s.value("first_target_error", std::string());
        break;
      }
    }
  } else if (mismatches > 0 || target_errors > 0) {
    c.result = "warn";
  }
  return c;
}

std::string seconds(uint64_t ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(ms) / 1000);
  return text;
}

// Transactions that a pause would wait for past its bound: the operator ends them, or lets them end,
// before begin (through LMS they would be ended by the begin-timeout; around it, they keep writing
// to the old database).
ReadinessCheck long_transactions(const TransactionsProbe& p) {
  ReadinessCheck c{"no long transactions on the source of truth", "pass", ""};
  const std::string bound = seconds(p.min_age_ms);
  if (!p.error.empty()) {
    c.result = "warn";
    c.detail = "cannot tell through " + p.via + ": " + p.error;
    return c;
  }
  if (p.transactions.empty()) {
    c.detail = "none open longer than " + bound;
    return c;
  }
  c.result = "fail";
  c.detail = std::to_string(p.transactions.size()) + " open longer than " + bound +
             ", which a pause would wait for past its bound: ";
  constexpr size_t kShown = 3;
  for (size_t i = 0; i < p.transactions.size() && i < kShown; ++i) {
    const control::OpenTransaction& t = p.transactions[i];
    const std::string from = !t.lms_client.empty() ? t.lms_client + " through LMS " + t.lms_address
                             : t.client.empty()    ? "a local socket"
                                                   : t.client;
    c.detail += (i > 0 ? "; " : "") + std::string("session ") + t.session + " from " + from + " (" + t.user +
                ", " + t.state + ", " + seconds(t.age_ms) + ")" +
                (t.statement.empty() ? "" : ": " + t.statement.substr(0, 120));
  }
  if (p.transactions.size() > kShown)
    c.detail += "; and " + std::to_string(p.transactions.size() - kShown) + " more";
  c.detail += ". End them or wait for them, then run preflight again";
  return c;
}

// Sessions whose database session holds what no replay can make again on the other database.
ReadinessCheck held_state(const ReadinessInputs& in) {
  ReadinessCheck c{"sessions that would lose state at the switch", "pass",
                   "no session holds state a cutover cannot carry"};
  size_t count = 0;
  std::string listed;
  constexpr size_t kShown = 5;
  for (const ProxyConnections& p : in.connections) {
    for (const control::Connection& s : p.connections) {
      if (s.held_state.empty()) continue;
      if (count++ < kShown) {
        listed += (listed.empty() ? "" : "; ") + s.source_address + " via " + s.remote_address + " (" +
                  s.user + ": " + s.held_state + ")";
      }
    }
  }
  if (count == 0) return c;
  c.result = "warn";
  c.detail =
      std::to_string(count) + " session" + (count == 1 ? "" : "s") + ": " + listed +
      (count > kShown ? "; and " + std::to_string(count - kShown) + " more" : "") +
      ". They keep their connection through the switch but not this state: end them first, or accept it";
  return c;
}

ReadinessCheck busy_sessions(const ReadinessInputs& in) {
  ReadinessCheck c{"sessions begin would wait for", "pass", ""};
  size_t busy = 0;
  std::string example;
  for (const ProxyConnections& p : in.connections) {
    for (const control::Connection& s : p.connections) {
      if (s.state != "in transaction" && s.state != "active") continue;
      if (busy++ == 0) example = s.remote_address + " (" + s.user + ", " + s.state + ")";
    }
  }
  if (busy == 0) {
    c.detail = "every session is idle between transactions";
    return c;
  }
  c.result = "warn";
  c.detail = std::to_string(busy) + " busy now, e.g. " + example +
             ": begin pauses each when its transaction ends (bounded by the begin timeout)";
  return c;
}

// At the switch every session of every proxy logs in to the other database: a proxy whose
// configuration cannot (a password changed there, a user never created, pg_hba) fails its clients.
ReadinessCheck logins_to_the_other_database(const LoginProbe& p) {
  ReadinessCheck c{"every proxy can log in to the other database", "pass",
                   "all " + std::to_string(p.asked) + " proxies logged in"};
  if (p.failures.empty()) return c;
  c.result = "fail";
  c.detail = std::to_string(p.failures.size()) + " of " + std::to_string(p.asked) + " cannot: ";
  for (size_t i = 0; i < p.failures.size() && i < 3; ++i)
    c.detail += (i > 0 ? "; " : "") + p.failures[i].first + ": " + p.failures[i].second;
  if (p.failures.size() > 3) c.detail += "; and " + std::to_string(p.failures.size() - 3) + " more";
  return c;
}

// Each user's sessions move as that user: the other database must hold the user with the same
// verifier (the keys of its login open nothing else).
ReadinessCheck users_on_the_other_database(const LoginProbe& p) {
  ReadinessCheck c{"every user can log in to the other database", "pass", ""};
  if (!p.users_error.empty()) {
    c.result = "warn";
    c.detail = "cannot tell through " + p.via + ": " + p.users_error;
    return c;
  }
  size_t wrong = 0;
  for (const control::NameCheck& u : p.users) {
    if (u.error.empty()) continue;
    if (wrong < 5) c.detail += (wrong > 0 ? "; " : "") + u.name + ": " + u.error;
    ++wrong;
  }
  if (wrong == 0) {
    c.detail =
        "all " + std::to_string(p.users.size()) + " users who may log in are there with the same verifier";
    return c;
  }
  c.result = "fail";
  c.detail = std::to_string(wrong) + " of " + std::to_string(p.users.size()) +
             " users could not log in there, and their sessions would fail at the switch: " + c.detail +
             (wrong > 5 ? "; and " + std::to_string(wrong - 5) + " more" : "") +
             ". Create them there with the same verifier (pg_dumpall --roles-only carries it)";
  return c;
}

// The tables the application used, read on the other database: one it does not have fails every
// statement that names it once the cutover sends them there.
ReadinessCheck tables_on_the_other_database(const TablesProbe& p) {
  ReadinessCheck c{"tables the application uses exist on the other database", "pass", ""};
  if (!p.error.empty()) {
    c.result = "warn";
    c.detail = "cannot tell through " + p.via + ": " + p.error;
    return c;
  }
  std::string missing;
  std::string unreadable;
  size_t missing_count = 0;
  for (const control::NameCheck& t : p.tables) {
    if (t.error.empty()) continue;
    if (names_a_missing_table(t.error)) {
      missing += (missing.empty() ? "" : ", ") + t.name;
      ++missing_count;
    } else if (unreadable.empty()) {
      unreadable = t.name + " (" + t.error + ")";
    }
  }
  if (missing_count > 0) {
    c.result = "fail";
    c.detail = std::to_string(missing_count) + " of the " + std::to_string(p.tables.size()) +
               " tables the application used (in the compatibility report) are missing there: " + missing +
               ". Create them on the other database (the schema tool's job) and let replication fill them";
    return c;
  }
  if (!unreadable.empty()) {
    c.result = "warn";
    c.detail = "cannot read " + unreadable + " through " + p.via;
    return c;
  }
  c.detail = "all " + std::to_string(p.tables.size()) +
             " tables the application used (in the compatibility report) are there";
  return c;
}

// 1234 → "1.2 kB": a slot's lag as an operator reads it.
std::string bytes_text(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) {
    value /= 1000;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, unit == 0 ? "%.0f %s" : "%.1f %s", value, kUnits[unit]);
  return text;
}

// "; the source of truth is at 0/3000148; slot app_forward (read by app_forward) 1.2 kB behind",
// or why it could not be read. *abandoned: a slot nobody reads, which keeps its WAL on the
// source's disk and is usually a replication tool's leftover.
std::string position_text(const ReplicationProbe& p, bool* abandoned) {
  *abandoned = false;
  if (!p.position_error.empty()) return "; the replication position cannot be read: " + p.position_error;
  std::string text;
  if (!p.position.position.empty()) text = "; the source of truth is at " + p.position.position;
  for (const control::ReplicationStream& s : p.position.streams) {
    const bool unread = !s.active;
    *abandoned = *abandoned || unread;
    text += "; slot " + s.name +
            (unread               ? " (read by nobody)"
             : s.consumer.empty() ? ""
                                  : " (read by " + s.consumer + ")") +
            " " + bytes_text(s.lag_bytes) + " behind";
  }
  return text;
}

ReadinessCheck replication_carries_the_marker(const ReplicationProbe& p) {
  ReadinessCheck c{"replication carries the marker", "pass", ""};
  const std::string table = kMarkerTableName;
  if (p.skipped) {
    c.result = "warn";
    c.detail =
        "not checked: the orchestrator runs with --skip-replication-check, so a commit will not wait "
        "for replication either (only right when both databases are one cluster, or nothing replicates)";
    return c;
  }
  bool abandoned = false;
  const std::string position = position_text(p, &abandoned);
  if (!p.error.empty()) {
    c.result = "fail";
    c.detail = "through " + p.via + ": " + p.error + position;
    return c;
  }
  if (p.created_on_other) {
    // A table made on the other database just now is one the replication tool does not carry
    // yet: commit would wait for a marker that never comes, with every client paused.
    c.result = "fail";
    c.detail = table + " did not exist on the other database and was created there now" +
               (p.created_on_truth ? " (and on the source of truth)" : "") +
               ": the replication tool must carry it (PostgreSQL logical replication: the table in the "
               "publication, then ALTER SUBSCRIPTION ... REFRESH PUBLICATION); run preflight again" +
               position;
    return c;
  }
  const std::string made = p.created_on_truth ? "; " + table + " was created on the source of truth now" : "";
  if (!p.seen) {
    c.result = "fail";
    c.detail = "a marker written through " + p.via + " was not on the other database within " +
               std::to_string(p.timeout_ms) + " ms: replication is behind or does not carry " + table + made +
               position;
    return c;
  }
  c.detail = "a marker written through " + p.via + " reached the other database in " +
             std::to_string(p.lag_ms) + " ms" + made + position;
  if (abandoned) {
    c.result = "warn";
    c.detail += " (a slot nobody reads keeps WAL on the source's disk until it is dropped)";
  }
  return c;
}

}  // namespace

std::vector<ReadinessCheck> readiness_checks(const ReadinessInputs& in) {
  std::vector<ReadinessCheck> out{proxies_agree(in), no_attempt_running(in)};
  if (out.front().result == "fail") return out;  // the rest reads the proxies' answers
  out.push_back(other_database(in));
  out.push_back(shadow_results(in));
  out.push_back(busy_sessions(in));
  out.push_back(held_state(in));
  if (in.transactions.ran) out.push_back(long_transactions(in.transactions));
  if (in.logins.ran) out.push_back(logins_to_the_other_database(in.logins));
  if (in.logins.ran && (!in.logins.users.empty() || !in.logins.users_error.empty()))
    out.push_back(users_on_the_other_database(in.logins));
  if (in.replication.ran) out.push_back(replication_carries_the_marker(in.replication));
  if (in.tables.ran) out.push_back(tables_on_the_other_database(in.tables));
  return out;
}

void to_json(nlohmann::json& j, const ReadinessCheck& c) {
  j = {{"name", c.name}, {"result", c.result}, {"detail", c.detail}};
}

void attribute_to_clients(std::vector<control::OpenTransaction>* transactions,
                          const std::vector<ProxyConnections>& connections) {
  std::unordered_map<std::string_view, const control::Connection*> by_database_address;
  for (const auto& proxy : connections) {
    for (const auto& c : proxy.connections) {
      if (!c.database_address.empty()) by_database_address.emplace(c.database_address, &c);
    }
  }
  for (auto& t : *transactions) {
    const auto it = by_database_address.find(t.client);
    if (it == by_database_address.end()) continue;
    t.lms_client = it->second->source_address;
    t.lms_address = it->second->remote_address;
  }
}

}  // namespace lms::orchestrator
