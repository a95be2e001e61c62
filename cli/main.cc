// lms-cli: the operator's command line. It talks to lms-orchestrator only; the orchestrator
// talks to the proxies.
//
// Exit codes: 0 done; 1 the orchestrator refused or the cutover failed; 2 bad usage;
// 3 the orchestrator cannot be reached; 130 begin interrupted with Ctrl-C (and aborted).
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include "duration.h"
#include "json.h"
#include "orchestrator_client.h"
#include "table.h"

namespace lms::cli {
namespace {

using nlohmann::json;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitInterrupted = 130;

std::atomic<bool> g_interrupted{false};

struct Options {
  ClientSettings client;
  std::string output = "table";
  std::string lms_addresses;
  std::string begin_timeout;
  std::string on_begin_timeout = "end-sessions";
  std::string abort_begin_timeout = "2s";
  std::string max_pause;
  bool fence_source = false;
  bool skip_preflight = false;
  double max_mismatch_rate = -1;  // unset
  uint64_t cutover_id = 0;
};

int fail(const Reply& reply) {
  std::cerr << "error: " << reply.error << "\n";
  return reply.reached ? kExitFailed : kExitUnreachable;
}

std::string proxies_query(const Options& o) {
  return o.lms_addresses.empty() ? "" : "?lms=" + o.lms_addresses;
}

json proxies_list(const Options& o) {
  json list = json::array();
  std::stringstream in(o.lms_addresses);
  for (std::string a; std::getline(in, a, ',');) {
    if (!a.empty()) list.push_back(a);
  }
  return list;
}

std::string title(std::string word) {
  if (!word.empty()) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
  return word;
}

// The per-proxy cutover table of the documentation ("LMS-Specific Consistent Cutover Metadata").
// A stall in milliseconds, as the tables show it ("" before anything waited).
std::string stall_cell(uint64_t ns) {
  if (ns == 0) return "";
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << static_cast<double>(ns) / 1e6 << " ms";
  return out.str();
}

std::string proxy_cutover_table(const json& attempt) {
  Table t({"LMS ADDRESS", "SOURCE OF TRUTH", "STATUS", "TRIGGER TIME", "TRAFFIC PAUSED TIME", "COMMIT TIME",
           "LONGEST STALL", "QUEUED", "ERROR"});
  for (const auto& p : attempt.at("proxies")) {
    const json& c = p.at("cutover");
    // Requests held, and logins that waited, while traffic was paused.
    const std::string queued = std::to_string(c.value("requests_queued", 0u)) + " requests, " +
                               std::to_string(c.value("connections_queued", 0u)) + " logins";
    t.add({p.value("lms_address", ""), p.value("source_of_truth", ""), p.value("status", ""),
           time_cell(p.value("trigger_time", "")), time_cell(p.value("traffic_paused_time", "")),
           time_cell(p.value("commit_time", "")), stall_cell(c.value("longest_stall_ns", uint64_t{0})),
           c.value("id", uint64_t{0}) == attempt.value("id", uint64_t{0}) ? queued : "",
           !p.value("error", "").empty() ? p.value("error", "") : c.value("error", "")});
  }
  return t.render() + "LMS-Specific Consistent Cutover Metadata.\n";
}

int print_attempt(const Options& o, const json& attempt) {
  if (o.output == "json") {
    std::cout << attempt.dump(2) << "\n";
  } else {
    std::cout << proxy_cutover_table(attempt);
  }
  return 0;
}

int cmd_status(const Options& o) {
  OrchestratorClient client(o.client);
  const Reply r = client.get("/v1/status" + proxies_query(o));
  if (!r.ok()) return fail(r);
  const json& proxies = r.body.at("proxies");
  if (o.output == "json") {
    std::cout << r.body.dump(2) << "\n";
  } else {
    bool transitioning = false;
    std::string source_dialect, target_dialect, truth;
    for (const auto& p : proxies) {
      transitioning = transitioning || p.value("transitioning", false);
      if (source_dialect.empty()) source_dialect = p.value("source_dialect", "");
      if (target_dialect.empty()) target_dialect = p.value("target_dialect", "");
      if (truth.empty()) truth = p.value("source_of_truth", "");
    }
    Table settings({"SOURCE DIALECT", "TARGET DIALECT", "SOURCE OF TRUTH", "TRANSITIONING"});
    settings.add({source_dialect, target_dialect, truth, transitioning ? "true" : "false"});
    std::cout << settings.render() << "Proxy Settings Table.\n";
    Table each({"LMS ADDRESS", "SHADOW MODE", "SOURCE DIALECT", "TARGET DIALECT", "SOURCE ADDRESS",
                "TARGET ADDRESS", "SOURCE OF TRUTH", "ERROR"});
    for (const auto& p : proxies) {
      each.add({p.value("sql_address", p.value("control_address", "")), title(p.value("shadow_mode", "")),
                p.value("source_dialect", ""), p.value("target_dialect", ""), p.value("source_address", ""),
                p.value("target_address", ""), p.value("source_of_truth", ""), p.value("error", "")});
    }
    std::cout << each.render() << "Individual LMS Proxy Status.\n";
    if (r.body.contains("old_source")) {
      // Since the last cutover: writes that reached the database it switched away from.
      const json& old = r.body.at("old_source");
      const bool watched = old.value("watched", false);
      Table t({"OLD SOURCE", "WRITES SINCE CUTOVER", "FENCED", "NOTE"});
      t.add({old.value("address", ""),
             watched ? std::to_string(old.value("writes_since_commit", uint64_t{0})) : "",
             old.value("fenced", false) ? "true" : "false",
             old.value("fence_error", "").empty() ? old.value("note", "")
                                                  : "fence failed: " + old.value("fence_error", "")});
      std::cout << t.render() << "Old Source Since Cutover " << old.value("cutover_id", uint64_t{0}) << ".\n";
    }
  }
  for (const auto& p : proxies) {
    if (!p.value("error", "").empty()) return kExitFailed;
  }
  return 0;
}

int cmd_connections(const Options& o) {
  OrchestratorClient client(o.client);
  const Reply r = client.get("/v1/connections" + proxies_query(o));
  if (!r.ok()) return fail(r);
  if (o.output == "json") {
    std::cout << r.body.at("connections").dump(2) << "\n";
  } else {
    Table t({"LMS ADDRESS", "CLIENT ADDRESS", "USER", "DATABASE", "SOURCE OF TRUTH", "STATE", "LAST QUERY",
             "ERROR"});
    for (const auto& c : r.body.at("connections")) {
      std::string query = c.value("last_query", "");
      for (auto& ch : query) ch = ch == '\n' || ch == '\t' ? ' ' : ch;
      if (query.size() > 60) query = query.substr(0, 57) + "...";
      t.add({c.value("remote_address", ""), c.value("source_address", ""), c.value("user", ""),
             c.value("database", ""), c.value("source_of_truth", ""), c.value("state", ""), query,
             c.value("error", "")});
    }
    std::cout << t.render() << "Connections Details.\n";
  }
  for (const auto& e : r.body.value("errors", json::array())) {
    std::cerr << "error: " << e.value("control_address", "") << ": " << e.value("error", "") << "\n";
  }
  return r.body.value("errors", json::array()).empty() ? 0 : kExitFailed;
}

// The preflight's table: each check, its result and why.
std::string checks_table(const json& answer) {
  Table t({"CHECK", "RESULT", "DETAIL"});
  for (const auto& c : answer.at("checks"))
    t.add({c.value("name", ""), c.value("result", ""), c.value("detail", "")});
  return t.render();
}

// The preflight's bounds from the flags (begin's and preflight's): the begin-timeout the cutover
// will run with and the mismatch gate. False after saying what is wrong.
bool add_preflight_bounds(const Options& o, json* request) {
  if (!o.begin_timeout.empty()) {
    const auto ms = control::parse_duration_ms(o.begin_timeout);
    if (!ms || *ms > UINT32_MAX) {
      std::cerr << "error: --begin-timeout takes a duration such as 30s, not \"" << o.begin_timeout << "\"\n";
      return false;
    }
    (*request)["begin_timeout_ms"] = *ms;
  }
  if (o.max_mismatch_rate >= 0) (*request)["max_mismatch_rate"] = o.max_mismatch_rate / 100;
  return true;
}

// "; oldest transaction 4.2 s, 10.0.0.5:51200 through LMS 10.0.0.9:5432: UPDATE ...", or "" when
// none is open or the source cannot tell.
std::string oldest_transaction(OrchestratorClient& client, const Options& o) {
  const Reply r = client.get("/v1/cutover/transactions" + proxies_query(o));
  if (!r.ok() || r.body.at("transactions").empty()) return "";
  const json& t = r.body.at("transactions").front();
  char age[32];
  std::snprintf(age, sizeof age, "%.1f s", static_cast<double>(t.value("age_ms", uint64_t{0})) / 1000);
  std::string from = t.value("lms_client", "");
  from = from.empty() ? t.value("client", "") : from + " through LMS " + t.value("lms_address", "");
  std::string statement = t.value("statement", "");
  for (auto& ch : statement) ch = ch == '\n' || ch == '\t' ? ' ' : ch;
  if (statement.size() > 48) statement = statement.substr(0, 45) + "...";
  return "; oldest transaction " + std::string(age) + (from.empty() ? "" : ", " + from) +
         (statement.empty() ? "" : ": " + statement);
}

int abort_after_interrupt(const Options& o, OrchestratorClient& client, uint64_t id, uint32_t timeout_ms) {
  std::cerr << "\nInterrupted: aborting cutover " << id << " and resuming traffic...\n";
  const Reply r =
      client.post("/v1/cutover/abort", json{{"id", id}, {"timeout_ms", timeout_ms}}, timeout_ms + 2000);
  if (!r.ok()) {
    std::cerr << "error: the abort did not complete: " << r.error << "\n";
    return kExitFailed;
  }
  if (o.output == "json") {
    std::cout << r.body.dump(2) << "\n";
  } else {
    std::cout << "Cutover " << id << " aborted; traffic resumed on the source of truth.\n";
  }
  return kExitInterrupted;
}

int cmd_begin(const Options& o) {
  json request{{"on_begin_timeout", o.on_begin_timeout}, {"preflight", !o.skip_preflight}};
  if (!add_preflight_bounds(o, &request)) return kExitUsage;
  if (!request.contains("begin_timeout_ms")) request["begin_timeout_ms"] = 0;
  const auto abort_ms = control::parse_duration_ms(o.abort_begin_timeout);
  if (!abort_ms) {
    std::cerr << "error: --abort-begin-timeout takes a duration such as 2s\n";
    return kExitUsage;
  }
  OrchestratorClient client(o.client);
  if (o.output != "json") {
    if (!o.skip_preflight)
      std::cout << "Running preflight checks (nothing pauses until they pass)...\n" << std::flush;
    std::cout << "Pausing traffic, press Ctrl-C to exit cutover and resume the traffic.\n" << std::flush;
  }
  if (!o.max_pause.empty()) {
    const auto ms = control::parse_duration_ms(o.max_pause);
    if (!ms || *ms == 0 || *ms > UINT32_MAX) {
      std::cerr << "error: --max-pause takes a duration such as 30s, not \"" << o.max_pause << "\"\n";
      return kExitUsage;
    }
    request["max_pause_ms"] = *ms;
  }
  if (!o.lms_addresses.empty()) request["lms_addresses"] = proxies_list(o);
  // The preflight's replication probe waits up to the orchestrator's replication-timeout.
  const Reply begun = client.post("/v1/cutover/begin", request, 10 * 60 * 1000);
  if (!begun.ok()) {
    if (begun.body.contains("preflight")) {
      if (o.output == "json") {
        std::cout << begun.body.at("preflight").dump(2) << "\n";
      } else {
        std::cout << checks_table(begun.body.at("preflight"));
      }
    }
    if (begun.body.contains("cutover") && o.output != "json")
      std::cout << proxy_cutover_table(begun.body["cutover"]);
    return fail(begun);
  }
  const uint64_t id = begun.body.at("id").get<uint64_t>();
  json attempt = begun.body;
  // Wait until every proxy has paused, showing how many sessions are still busy and, once a second,
  // the oldest transaction open on the source of truth: the one the pause waits for longest.
  std::string oldest;
  size_t shown = 0;  // the progress line's length, to blank it
  auto next_look = std::chrono::steady_clock::now() + std::chrono::milliseconds(500);
  while (attempt.value("status", "") == "Began") {
    if (g_interrupted) return abort_after_interrupt(o, client, id, static_cast<uint32_t>(*abort_ms));
    uint32_t busy = 0;
    size_t waiting = 0;
    for (const auto& p : attempt.at("proxies")) {
      const json& c = p.at("cutover");
      if (c.value("status", "") != "TrafficPaused") ++waiting;
      busy += c.value("busy_sessions", 0u);
    }
    if (o.output != "json" && std::chrono::steady_clock::now() >= next_look) {
      next_look = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      oldest = oldest_transaction(client, o);
    }
    if (o.output != "json") {
      std::string line = "waiting for " + std::to_string(busy) + " busy session" + (busy == 1 ? "" : "s") +
                         " on " + std::to_string(waiting) + " of " +
                         std::to_string(attempt.at("proxies").size()) + " proxies" + oldest + "...";
      // Padded to cover a longer line before it.
      const size_t length = line.size();
      if (length < shown) line.append(shown - length, ' ');
      shown = length;
      std::cerr << "\r" << line << std::flush;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const Reply r = client.get("/v1/cutover/" + std::to_string(id));
    if (!r.ok()) {
      if (g_interrupted) return abort_after_interrupt(o, client, id, static_cast<uint32_t>(*abort_ms));
      return fail(r);
    }
    attempt = r.body;
  }
  if (o.output != "json" && shown > 0) std::cerr << "\r" << std::string(shown, ' ') << "\r" << std::flush;
  if (attempt.value("status", "") != "TrafficPaused") {
    std::cerr << "error: cutover " << id << " failed: " << attempt.value("error", attempt.value("status", ""))
              << "\n";
    if (o.output == "json") {
      std::cout << attempt.dump(2) << "\n";
    } else {
      std::cout << proxy_cutover_table(attempt);
    }
    return kExitFailed;
  }
  if (o.output == "json") {
    std::cout << attempt.dump(2) << "\n";
  } else {
    std::cout << "Successfully began consistent cutover with ID " << id << ".\n\n"
              << "To check the status of this command, please run:\n"
              << "lms-cli cutover get_metadata -i " << id << "\n";
  }
  return 0;
}

int cmd_commit(const Options& o) {
  OrchestratorClient client(o.client);
  // Unsaid, the orchestrator's --fence-source decides.
  const Reply r =
      client.post("/v1/cutover/commit", o.fence_source ? json{{"fence_source", true}} : json::object());
  if (!r.ok()) {
    if (r.body.contains("cutover") && o.output != "json") std::cout << proxy_cutover_table(r.body["cutover"]);
    return fail(r);
  }
  print_attempt(o, r.body);
  if (r.body.value("status", "") != "CommitCompleted") {
    std::cerr << "warning: not every proxy has confirmed yet; the orchestrator keeps sending the commit "
                 "(see lms-cli cutover get_metadata -i "
              << r.body.value("id", 0) << ")\n";
    return kExitFailed;
  }
  return 0;
}

int cmd_abort(const Options& o) {
  OrchestratorClient client(o.client);
  const Reply r = client.post("/v1/cutover/abort", json::object());
  if (!r.ok()) return fail(r);
  return print_attempt(o, r.body);
}

// What would make a cutover fail, checked before anything pauses: exit 1 when a check fails.
int cmd_preflight(const Options& o) {
  json request = json::object();
  if (!add_preflight_bounds(o, &request)) return kExitUsage;
  OrchestratorClient client(o.client);
  // The replication probe waits up to the orchestrator's replication-timeout.
  const Reply r = client.post("/v1/cutover/preflight" + proxies_query(o), request, 10 * 60 * 1000);
  if (!r.ok()) return fail(r);
  const bool ready = r.body.value("ready", false);
  if (o.output == "json") {
    std::cout << r.body.dump(2) << "\n";
  } else {
    std::cout << checks_table(r.body)
              << (ready ? "Preflight passed.\n" : "Preflight failed: fix what fails, then run it again.\n");
  }
  return ready ? 0 : kExitFailed;
}

int cmd_get_metadata(const Options& o) {
  OrchestratorClient client(o.client);
  const Reply r = client.get("/v1/cutover/" + std::to_string(o.cutover_id));
  if (!r.ok()) return fail(r);
  const json& a = r.body;
  if (o.output == "json") {
    std::cout << a.dump(2) << "\n";
    return 0;
  }
  // The summary: the earliest trigger, the latest pause and commit across the proxies.
  std::string truth, trigger, paused, commit;
  for (const auto& p : a.at("proxies")) {
    if (truth.empty()) truth = p.value("source_of_truth", "");
    const std::string t = p.value("trigger_time", "");
    if (!t.empty() && (trigger.empty() || t < trigger)) trigger = t;
    paused = std::max(paused, p.value("traffic_paused_time", ""));
    commit = std::max(commit, p.value("commit_time", ""));
  }
  std::cout << "cutover metadata for attempt id " << a.value("id", 0) << ":\n";
  Table summary({"SOURCE OF TRUTH", "STATUS", "TRIGGER TIME", "TRAFFIC PAUSED TIME", "COMMIT TIME", "ERROR"});
  summary.add({truth, a.value("status", ""), time_cell(trigger), time_cell(paused), time_cell(commit),
               a.value("error", "")});
  std::cout << summary.render() << "Summarized Consistent Cutover Metadata.\n" << proxy_cutover_table(a);
  return 0;
}

}  // namespace
}  // namespace lms::cli

int main(int argc, char** argv) {
  using namespace lms::cli;
  CLI::App app{"lms-cli: inspect the LMS proxies and perform a consistent cutover"};
  app.require_subcommand(1);
  Options o;
  app.add_option("--orchestrator-url", o.client.url, "the orchestrator's URL, e.g. http://127.0.0.1:4200")
      ->envname("CLI_ORCHESTRATOR_URL");
  app.add_option("--tls-ca-cert", o.client.tls_ca_cert, "CA certificate")->envname("CLI_TLS_CA_CERT");
  app.add_option("--tls-client-cert", o.client.tls_client_cert, "client certificate")
      ->envname("CLI_TLS_CLIENT_CERT");
  app.add_option("--tls-client-key", o.client.tls_client_key, "client key")->envname("CLI_TLS_CLIENT_KEY");
  auto output = [&o](CLI::App* cmd) {
    cmd->add_option("-o,--output-type", o.output, "json or table")
        ->check(CLI::IsMember({"json", "table"}))
        ->capture_default_str();
  };
  auto lms = [&o](CLI::App* cmd) {
    cmd->add_option(
        "-l,--lms-addresses", o.lms_addresses,
        "proxies to run the command against, comma-separated (default: every proxy the orchestrator knows)");
  };
  int (*action)(const Options&) = nullptr;

  auto* connections = app.add_subcommand("connections", "client connections")->require_subcommand(1);
  auto* list = connections->add_subcommand("list", "list every client connection and its most recent query");
  output(list);
  lms(list);
  list->callback([&] { action = cmd_connections; });

  auto* cutover = app.add_subcommand("cutover", "cutover commands")->require_subcommand(1);
  auto* consistent = cutover->add_subcommand("consistent", "a consistent cutover")->require_subcommand(1);
  auto* preflight = consistent->add_subcommand(
      "preflight", "check, before anything pauses, what would make a cutover fail (changes nothing clients see)");
  preflight->add_option(
      "--begin-timeout", o.begin_timeout,
      "the begin-timeout the cutover will run with: transactions open longer fail the check "
      "(none: the orchestrator's --max-pause)");
  preflight
      ->add_option("--max-mismatch-rate", o.max_mismatch_rate,
                   "fail when more than this percentage of compared answers differed or failed on the target "
                   "(none: any target error fails, mismatches warn)")
      ->check(CLI::Range(0.0, 100.0));
  output(preflight);
  lms(preflight);
  preflight->callback([&] { action = cmd_preflight; });
  auto* begin = consistent->add_subcommand("begin", "pause traffic on every proxy");
  begin->add_option(
      "--begin-timeout", o.begin_timeout,
      "longest wait for transactions and queries to finish (e.g. 30s); none: wait as long as it takes");
  begin
      ->add_option("--on-begin-timeout", o.on_begin_timeout,
                   "when --begin-timeout expires: end-sessions (end the busy ones with an error) or abort")
      ->check(CLI::IsMember({"end-sessions", "abort"}))
      ->capture_default_str();
  begin->add_flag("--skip-preflight", o.skip_preflight,
                  "pause without running the preflight checks first (see cutover consistent preflight)");
  begin
      ->add_option(
          "--max-mismatch-rate", o.max_mismatch_rate,
          "the preflight fails when more than this percentage of compared answers differed or failed "
          "on the target (none: any target error fails, mismatches warn)")
      ->check(CLI::Range(0.0, 100.0));
  begin->add_option("--max-pause", o.max_pause,
                    "the longest traffic may stay paused from begin without a commit: then the cutover is "
                    "aborted and traffic resumes (none: the orchestrator's --max-pause, 30s by default)");
  begin
      ->add_option("--abort-begin-timeout", o.abort_begin_timeout,
                   "after Ctrl-C, how long to wait for every proxy to confirm the abort")
      ->capture_default_str();
  output(begin);
  lms(begin);
  begin->callback([&] { action = cmd_begin; });
  auto* commit = consistent->add_subcommand("commit", "switch the source of truth and resume traffic");
  commit->add_flag("--fence-source", o.fence_source,
                   "then make the old source refuse writes from sessions that are not LMS's or replication's "
                   "(lifted by a cutover back)");
  output(commit);
  commit->callback([&] { action = cmd_commit; });
  auto* abort = consistent->add_subcommand("abort", "resume traffic on the current source of truth");
  output(abort);
  abort->callback([&] { action = cmd_abort; });
  auto* metadata = cutover->add_subcommand("get_metadata", "show one cutover attempt");
  metadata->add_option("-i,--cutover-id", o.cutover_id, "the attempt's ID")->required();
  output(metadata);
  metadata->callback([&] { action = cmd_get_metadata; });

  auto* status = app.add_subcommand("status", "the proxies' configuration and source of truth");
  output(status);
  lms(status);
  status->callback([&] { action = cmd_status; });
  bool version = false;
  app.add_subcommand("version", "print the version")->callback([&] { version = true; });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : kExitUsage;
  }
  if (version) {
    std::printf("lms-cli %s\n", LMS_VERSION);
    return 0;
  }
  if (o.client.url.empty()) {
    std::cerr << "error: --orchestrator-url (or CLI_ORCHESTRATOR_URL) is required\n";
    return kExitUsage;
  }
  if (o.client.url.find("://") == std::string::npos) o.client.url = "http://" + o.client.url;
  std::signal(SIGINT, [](int) { g_interrupted = true; });
  return action(o);
}
