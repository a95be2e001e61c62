#include "config.h"

#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <string_view>
#include <thread>

namespace lms::core {
namespace {

const std::vector<Setting> kSettings = {
    {"source-dialect", nullptr, "dialect of the source database: postgres, cockroach or mysql"},
    {"target-dialect", "cockroach", "dialect of the target database"},
    {"listen", "0.0.0.0:9043", "address for client connections (host:port)"},
    {"http-listen", "0.0.0.0:9044", "address for /healthz, /readyz and /metrics (host:port)"},
    {"source", nullptr, "connection string of the source database (URL or key=value); also INIT_SOURCE"},
    {"target", "", "connection string of the target database; also INIT_TARGET"},
    {"shadow-mode", "none",
     "shadowing of traffic to the target: none, async, sync, strict-sync; also LMS_SHADOW_MODE"},
    {"plugin-dir", "", "directory holding the plugins (default: next to the binary, else the installed one)"},
    {"workers", "0", "event-loop threads; 0 means one per core"},
    {"auth-method", "scram-sha-256",
     "how clients authenticate to the proxy: scram-sha-256, md5, password or trust"},
    {"log-level", "info", "debug, info, warn or error; also LMS_LOGGING"},
    {"max-connections", "10000", "client connections served at once; more are refused with an error"},
    {"connect-timeout", "10000", "milliseconds to wait for a database connection"},
    {"buffer-limit", "262144", "bytes queued toward a slow peer before the proxy stops reading its feeder"},
    {"server-pool-size", "0",
     "database connections each worker keeps after their clients leave, reset (PostgreSQL: DISCARD ALL), "
     "for the next client with the same user, database and startup parameters; 0: none kept"},
    {"pool-mode", "session",
     "session: a database connection per client (kept for the next client with server-pool-size); "
     "transaction: a client holds a database connection only from the first message of a transaction "
     "to its end, so many clients share server-pool-size connections per user and database per worker "
     "(PostgreSQL and CockroachDB; prepared statements and settings are made again where missing)"},
    {"pool-timeout", "30000",
     "pool-mode transaction: milliseconds a client waits for a free database connection before its "
     "request fails with SQLSTATE 53300"},
    {"max-prepared-statements", "200",
     "pool-mode transaction: statements kept prepared on each database connection; the least recently "
     "used is closed first"},
    {"pool-cache-unnamed", "off",
     "pool-mode transaction: on keeps each unnamed statement a client parses (most drivers' extended "
     "queries, parsed afresh for every run) prepared on the database connection under a name of lms's, "
     "so the database parses and plans it once per connection; its plans become the database's cached "
     "plans, and after a table's columns change a statement reading them fails once per connection "
     "that kept it (0A000, cached plan must not change result type) before it is prepared again"},
    {"server-idle-timeout", "600000",
     "milliseconds a kept database connection waits for a client before it is closed"},
    {"shadow-timeout", "5000", "milliseconds a client's answer waits for the target in sync and strict-sync"},
    {"shadow-validate", "on",
     "compare the two databases' answers to every shadowed request (on or off): the compatibility "
     "report, lms_shadow_mismatches_total and the mismatch file"},
    {"shadow-ignore-statements", "",
     "regular expression (ECMAScript, case-insensitive) over normalized statements whose answers are "
     "not compared, for values that legitimately differ (now(), random(), sequences)"},
    {"shadow-ignore-columns", "", "comma-separated column names whose values do not enter the comparison"},
    {"mismatch-file", "",
     "file that receives one JSON line per request whose answers differed (empty: none)"},
    {"auth-file", "",
     "file of the users who may log in, one per line: \"name\" \"SCRAM-SHA-256$...\" (PostgreSQL's stored "
     "verifier, as in pg_authid or a PgBouncer userlist; never a password). Without it, clients log in as "
     "the source connection string's user"},
    {"auth-query", "",
     "SQL the source database answers with the users who may log in and their stored verifiers, one row "
     "each (name, verifier), run over the source connection string's account at start and every "
     "auth-refresh; each user then reaches the databases as itself. 'default': the database's own list "
     "(pg_authid, which only a superuser reads; mysql.user). Unset: that list when the account may read "
     "it, else the account alone; 'none': the account alone"},
    {"auth-refresh", "10000", "milliseconds between two reads of auth-query"},
    {"ssl-cert", "", "certificate (PEM, with its chain) clients' TLS is served with; also LMS_SSL_CERT"},
    {"ssl-key", "", "key of ssl-cert (PEM); also LMS_SSL_KEY"},
    {"ssl-ca", "", "CA of the client certificates client-tls verify requires; also LMS_SSL_CA"},
    {"client-tls", "",
     "TLS with clients: off, on (offered; plain clients accepted), require (plain clients refused) or "
     "verify (and a client certificate signed by ssl-ca); default on with ssl-cert, else off"},
    {"allow-tls-mode-disable", "false",
     "allow sslmode=disable or allow in a database connection string (TLS to the databases is otherwise "
     "required to be at least attempted)"},
    {"control-tls-cert", "", "certificate of the HTTP port (PEM; with its chain): it then speaks HTTPS"},
    {"control-tls-key", "", "key of control-tls-cert (PEM)"},
    {"control-tls-ca", "",
     "CA whose client certificates may call the control API (/v1); without it, with TLS, any caller may"},
    {"allow-insecure-control", "false",
     "serve the control API without TLS to callers on other machines (otherwise, without a "
     "certificate, only this machine may call it)"},
    {"shutdown-grace", "25000",
     "milliseconds a SIGTERM waits for sessions inside a transaction or a query to finish (idle ones "
     "end at once, new clients are refused); then the rest are ended and the proxy exits"},
    {"state-file", "",
     "file where the proxy keeps its source of truth and a cutover in progress, so a restart resumes "
     "them (empty: not kept; a restarted proxy serves from the source)"},
};

// Settings that are switches: a bare --name means true.
bool is_switch(const std::string& name) {
  return name == "allow-insecure-control" || name == "allow-tls-mode-disable" || name == "pool-cache-unnamed";
}

std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "on" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "off" || text == "no" || text == "0") return false;
  return std::nullopt;
}

bool known(const std::string& name) {
  for (const auto& s : kSettings) {
    if (name == s.name) return true;
  }
  return false;
}

std::optional<HostPort> parse_host_port(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return std::nullopt;
  HostPort hp;
  hp.host = text.substr(0, colon);
  if (hp.host.size() >= 2 && hp.host.front() == '[' && hp.host.back() == ']') {
    hp.host = hp.host.substr(1, hp.host.size() - 2);
  }
  if (hp.host.empty()) hp.host = "0.0.0.0";
  unsigned port = 0;
  const char* begin = text.data() + colon + 1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port > 65535) return std::nullopt;
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

std::optional<uint32_t> parse_unsigned(const std::string& text, uint32_t min, uint32_t max) {
  uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    return std::nullopt;
  }
  return v;
}

// A value with where it came from, for error messages.
struct Sourced {
  std::string value;
  std::string origin;
};

bool read_toml(const std::string& path, std::map<std::string, Sourced>& values, std::string* error) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << "config file " << path << ": " << e.description() << " (line " << e.source().begin.line << ")";
    *error = msg.str();
    return false;
  }
  for (const auto& [key, node] : table) {
    const std::string name(key.str());
    if (!known(name)) {
      *error = "config file " + path + ": unknown key '" + name + "'";
      return false;
    }
    std::string value;
    if (const auto s = node.value<std::string>(); s && node.is_string()) {
      value = *s;
    } else if (node.is_integer()) {
      value = std::to_string(*node.value<int64_t>());
    } else if (node.is_boolean()) {
      value = *node.value<bool>() ? "true" : "false";
    } else {
      *error = "config file " + path + ": key '" + name + "' must be a string or a number";
      return false;
    }
    values[name] = {value, "config file " + path};
  }
  return true;
}

// The deployment's secrets file, mounted by the Helm chart at LMS_READ_CONFIG_FILE.
// TARGET_USERS: {"user": "password on the target"}, for users the target holds with another
// password than the source (made anew there), so their sessions log in there as themselves.
bool read_secrets_json(const std::string& path, std::map<std::string, Sourced>& values,
                       std::map<std::string, std::string>* target_users, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "LMS_READ_CONFIG_FILE: cannot read " + path;
    return false;
  }
  nlohmann::json json;
  try {
    in >> json;
  } catch (const nlohmann::json::exception&) {
    *error = "LMS_READ_CONFIG_FILE: " + path + " is not valid JSON";
    return false;
  }
  if (!json.is_object()) {
    *error = "LMS_READ_CONFIG_FILE: " + path + " must hold a JSON object";
    return false;
  }
  for (const auto& [json_key, setting] :
       {std::pair{"INIT_SOURCE", "source"}, std::pair{"INIT_TARGET", "target"}}) {
    if (!json.contains(json_key)) continue;
    if (!json[json_key].is_string()) {
      *error = std::string("LMS_READ_CONFIG_FILE: ") + json_key + " must be a string";
      return false;
    }
    values[setting] = {json[json_key].get<std::string>(), path + " " + json_key};
  }
  if (json.contains("TARGET_USERS")) {
    const nlohmann::json& users = json["TARGET_USERS"];
    bool valid = users.is_object();
    for (auto it = users.begin(); valid && it != users.end(); ++it) valid = it.value().is_string();
    if (!valid) {
      // Never the value: it holds passwords.
      *error = "LMS_READ_CONFIG_FILE: TARGET_USERS must map each user's name to its password on the target";
      return false;
    }
    for (auto it = users.begin(); it != users.end(); ++it)
      (*target_users)[it.key()] = it.value().get<std::string>();
  }
  return true;
}

}  // namespace

const std::vector<Setting>& settings() { return kSettings; }

std::optional<CommandLine> parse_command_line(int argc, const char* const* argv, std::string* error) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      cl.help = true;
      continue;
    }
    if (arg == "--version") {
      cl.version = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument '" + arg + "'";
      return std::nullopt;
    }
    std::string name = arg.substr(2);
    std::string value;
    const size_t eq = name.find('=');
    if (eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    } else if (is_switch(name)) {
      value = "true";
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      *error = "flag --" + name + " needs a value";
      return std::nullopt;
    }
    if (name == "config") {
      cl.config_file = value;
    } else if (known(name)) {
      cl.values[name] = value;
    } else {
      *error = "unknown flag --" + name + " (see --help)";
      return std::nullopt;
    }
  }
  return cl;
}

std::optional<Config> load_config(const CommandLine& command_line, std::string* error) {
  std::map<std::string, Sourced> values;
  std::map<std::string, std::string> target_users;
  for (const auto& s : kSettings) {
    if (s.default_value != nullptr) values[s.name] = {s.default_value, "default"};
  }
  if (command_line.config_file && !read_toml(*command_line.config_file, values, error)) {
    return std::nullopt;
  }
  if (const char* path = std::getenv("LMS_READ_CONFIG_FILE"); path && *path) {
    if (!read_secrets_json(path, values, &target_users, error)) return std::nullopt;
  }
  if (const char* mode = std::getenv("LMS_SHADOW_MODE"); mode && *mode) {
    values["shadow-mode"] = {mode, "LMS_SHADOW_MODE"};
  }
  if (const char* level = std::getenv("LMS_LOGGING"); level && *level) {
    values["log-level"] = {level, "LMS_LOGGING"};
  }
  for (const auto& [variable, key] :
       {std::pair{"LMS_SSL_CERT", "ssl-cert"}, std::pair{"LMS_SSL_KEY", "ssl-key"},
        std::pair{"LMS_SSL_CA", "ssl-ca"}}) {
    if (const char* path = std::getenv(variable); path && *path) values[key] = {path, variable};
  }
  for (const auto& [name, value] : command_line.values) values[name] = {value, "flag --" + name};

  for (const auto& s : kSettings) {
    if (values.count(s.name) == 0 || values[s.name].value.empty()) {
      if (s.default_value == nullptr) {
        *error = std::string("missing required setting '") + s.name + "' (" + s.help + ")";
        return std::nullopt;
      }
    }
  }

  Config c;
  c.target_users = std::move(target_users);
  auto bad = [&](const char* key, const std::string& why) {
    *error = std::string("invalid ") + key + " from " + values[key].origin + ": " + why;
    return std::nullopt;
  };
  auto one_of = [](const std::string& v, std::initializer_list<const char*> options) {
    for (const char* o : options) {
      if (v == o) return true;
    }
    return false;
  };

  c.source_dialect = values["source-dialect"].value;
  if (!one_of(c.source_dialect, {"postgres", "cockroach", "mysql"})) {
    return bad("source-dialect", "'" + c.source_dialect + "' is not postgres, cockroach or mysql");
  }
  c.target_dialect = values["target-dialect"].value;
  if (!one_of(c.target_dialect, {"postgres", "cockroach", "mysql"})) {
    return bad("target-dialect", "'" + c.target_dialect + "' is not postgres, cockroach or mysql");
  }
  for (const char* key : {"listen", "http-listen"}) {
    const auto hp = parse_host_port(values[key].value);
    if (!hp) return bad(key, "'" + values[key].value + "' is not host:port");
    (std::string(key) == "listen" ? c.listen : c.http_listen) = *hp;
  }
  c.source = values["source"].value;
  c.target = values["target"].value;
  c.shadow_mode = values["shadow-mode"].value;
  if (!one_of(c.shadow_mode, {"none", "async", "sync", "strict-sync"}) &&
      c.shadow_mode.find('/') != std::string::npos) {
    return bad("shadow-mode", "'" + c.shadow_mode + "' must be a plugin name, not a path");
  }
  if (c.shadow_mode != "none" && c.target.empty()) {
    return bad("shadow-mode", "'" + c.shadow_mode + "' needs a target connection string (--target)");
  }
  c.plugin_dir = values["plugin-dir"].value;
  const auto workers = parse_unsigned(values["workers"].value, 0, 256);
  if (!workers) return bad("workers", "'" + values["workers"].value + "' is not a number from 0 to 256");
  c.workers = *workers != 0 ? *workers : std::max(1u, std::thread::hardware_concurrency());
  c.auth_method = values["auth-method"].value;
  if (!one_of(c.auth_method, {"scram-sha-256", "md5", "password", "trust"})) {
    return bad("auth-method", "'" + c.auth_method + "' is not scram-sha-256, md5, password or trust");
  }
  c.log_level = values["log-level"].value;
  if (!one_of(c.log_level, {"debug", "info", "warn", "error"})) {
    return bad("log-level", "'" + c.log_level + "' is not debug, info, warn or error");
  }
  const auto max_connections = parse_unsigned(values["max-connections"].value, 1, 1000000);
  if (!max_connections) return bad("max-connections", "must be a number from 1 to 1000000");
  c.max_connections = *max_connections;
  const auto connect_timeout = parse_unsigned(values["connect-timeout"].value, 1, 3600000);
  if (!connect_timeout) return bad("connect-timeout", "must be milliseconds from 1 to 3600000");
  c.connect_timeout_ms = *connect_timeout;
  const auto buffer_limit = parse_unsigned(values["buffer-limit"].value, 65536, 1u << 30);
  if (!buffer_limit) return bad("buffer-limit", "must be bytes from 65536 to 1073741824");
  c.buffer_limit = *buffer_limit;
  const auto server_pool_size = parse_unsigned(values["server-pool-size"].value, 0, 100000);
  if (!server_pool_size) return bad("server-pool-size", "must be a number from 0 to 100000");
  c.server_pool_size = *server_pool_size;
  c.pool_mode = values["pool-mode"].value;
  if (!one_of(c.pool_mode, {"session", "transaction"})) {
    return bad("pool-mode", "'" + c.pool_mode + "' is not session or transaction");
  }
  if (c.pool_mode == "transaction" && c.server_pool_size == 0) {
    return bad("pool-mode",
               "transaction needs server-pool-size above 0: the database connections each worker "
               "opens per user and database");
  }
  const auto pool_timeout = parse_unsigned(values["pool-timeout"].value, 1, 86400000);
  if (!pool_timeout) return bad("pool-timeout", "must be milliseconds from 1 to 86400000");
  c.pool_timeout_ms = *pool_timeout;
  const auto max_prepared = parse_unsigned(values["max-prepared-statements"].value, 1, 100000);
  if (!max_prepared) return bad("max-prepared-statements", "must be a number from 1 to 100000");
  c.max_prepared_statements = *max_prepared;
  const auto cache_unnamed = parse_bool(values["pool-cache-unnamed"].value);
  if (!cache_unnamed)
    return bad("pool-cache-unnamed", "'" + values["pool-cache-unnamed"].value + "' is not on or off");
  c.pool_cache_unnamed = *cache_unnamed;
  if (c.pool_cache_unnamed && c.pool_mode != "transaction") {
    return bad("pool-cache-unnamed",
               "applies to pool-mode transaction only (pool-mode session leaves each client its own "
               "connection and its statements as it made them)");
  }
  const auto server_idle_timeout = parse_unsigned(values["server-idle-timeout"].value, 100, 86400000);
  if (!server_idle_timeout) return bad("server-idle-timeout", "must be milliseconds from 100 to 86400000");
  c.server_idle_timeout_ms = *server_idle_timeout;
  const auto shadow_timeout = parse_unsigned(values["shadow-timeout"].value, 1, 3600000);
  if (!shadow_timeout) return bad("shadow-timeout", "must be milliseconds from 1 to 3600000");
  c.shadow_timeout_ms = *shadow_timeout;
  const auto shutdown_grace = parse_unsigned(values["shutdown-grace"].value, 0, 3600000);
  if (!shutdown_grace) return bad("shutdown-grace", "must be milliseconds from 0 to 3600000");
  c.shutdown_grace_ms = *shutdown_grace;
  c.state_file = values["state-file"].value;
  const std::string validate = values["shadow-validate"].value;
  if (!one_of(validate, {"on", "off"})) return bad("shadow-validate", "'" + validate + "' is not on or off");
  c.shadow_validate = validate == "on";
  c.shadow_ignore_statements = values["shadow-ignore-statements"].value;
  if (!c.shadow_ignore_statements.empty()) {
    try {
      std::regex check(c.shadow_ignore_statements, std::regex::ECMAScript | std::regex::icase);
    } catch (const std::regex_error& e) {
      return bad("shadow-ignore-statements",
                 "'" + c.shadow_ignore_statements + "' is not a regular expression: " + e.what());
    }
  }
  std::stringstream columns(values["shadow-ignore-columns"].value);
  for (std::string column; std::getline(columns, column, ',');) {
    const size_t first = column.find_first_not_of(" \t");
    const size_t last = column.find_last_not_of(" \t");
    if (first != std::string::npos) c.shadow_ignore_columns.push_back(column.substr(first, last - first + 1));
  }
  c.mismatch_file = values["mismatch-file"].value;
  c.control_tls_cert = values["control-tls-cert"].value;
  c.control_tls_key = values["control-tls-key"].value;
  c.control_tls_ca = values["control-tls-ca"].value;
  if (c.control_tls_cert.empty() != c.control_tls_key.empty()) {
    return bad(c.control_tls_cert.empty() ? "control-tls-key" : "control-tls-cert",
               "control-tls-cert and control-tls-key go together");
  }
  if (!c.control_tls_ca.empty() && c.control_tls_cert.empty()) {
    return bad("control-tls-ca",
               "client certificates need TLS: set control-tls-cert and control-tls-key too");
  }
  const auto insecure = parse_bool(values["allow-insecure-control"].value);
  if (!insecure)
    return bad("allow-insecure-control",
               "'" + values["allow-insecure-control"].value + "' is not true or false");
  c.allow_insecure_control = *insecure;
  c.auth_file = values["auth-file"].value;
  if (!c.auth_file.empty() && c.auth_method != "scram-sha-256") {
    return bad("auth-file", "holds SCRAM verifiers: it needs auth-method scram-sha-256");
  }
  c.auth_query = values["auth-query"].value;
  const bool reads_users = !c.auth_query.empty() && c.auth_query != "none";
  if (reads_users && !c.auth_file.empty()) {
    return bad("auth-query", "reads the users from the database: it cannot go with auth-file");
  }
  if (reads_users && c.auth_method != "scram-sha-256") {
    return bad("auth-query", "logs each user in with its SCRAM verifier: it needs auth-method scram-sha-256");
  }
  const auto auth_refresh = parse_unsigned(values["auth-refresh"].value, 100, 3600000);
  if (!auth_refresh) return bad("auth-refresh", "must be a number of milliseconds from 100 to 3600000");
  c.auth_refresh_ms = *auth_refresh;
  c.ssl_cert = values["ssl-cert"].value;
  c.ssl_key = values["ssl-key"].value;
  c.ssl_ca = values["ssl-ca"].value;
  c.client_tls = values["client-tls"].value;
  if (!c.client_tls.empty() && !one_of(c.client_tls, {"off", "on", "require", "verify"})) {
    return bad("client-tls", "'" + c.client_tls + "' is not off, on, require or verify");
  }
  const auto tls_disable = parse_bool(values["allow-tls-mode-disable"].value);
  if (!tls_disable)
    return bad("allow-tls-mode-disable",
               "'" + values["allow-tls-mode-disable"].value + "' is not true or false");
  c.allow_tls_mode_disable = *tls_disable;
  return c;
}

namespace {

// Appends `text` wrapped at kUsageWidth columns, every line after the first indented by `indent`.
void append_wrapped(std::ostringstream& out, const std::string& text, size_t indent) {
  constexpr size_t kUsageWidth = 100;
  size_t column = indent;
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = std::min(text.find(' ', at), text.size());
    const size_t word = end - at;
    if (column > indent && column + 1 + word > kUsageWidth) {
      out << '\n' << std::string(indent, ' ');
      column = indent;
    } else if (column > indent) {
      out << ' ';
      ++column;
    }
    out << std::string_view(text).substr(at, word);
    column += word;
    at = end + 1;
  }
}

}  // namespace

std::string usage() {
  std::ostringstream out;
  out << "usage: lms [--config FILE] [--NAME VALUE ...]\n\n"
         "LMS proxy: serves every query from the source of truth and can shadow it to the target.\n"
         "Every setting below is a TOML key of --config and a flag of the same name; flags win.\n\n";
  // One column for every flag's text: two spaces past the longest name.
  size_t name_width = 0;
  for (const auto& s : kSettings) name_width = std::max(name_width, std::string_view(s.name).size());
  const size_t text_column = 2 + 2 + name_width + 2;
  for (const auto& s : kSettings) {
    out << "  --" << s.name << std::string(text_column - 4 - std::string_view(s.name).size(), ' ');
    std::string text = s.help;
    if (s.default_value == nullptr) {
      text += " (required)";
    } else if (*s.default_value != '\0') {
      text += std::string(" (default ") + s.default_value + ")";
    }
    append_wrapped(out, text, text_column);
    out << '\n';
  }
  out << "\nEnvironment: LMS_READ_CONFIG_FILE (a config.json with INIT_SOURCE and INIT_TARGET),\n"
         "LMS_SHADOW_MODE, LMS_LOGGING.\n";
  return out.str();
}

}  // namespace lms::core
