// The proxy's configuration: one table of settings, each with one name used alike as the TOML key
// and the command-line flag (--name), a default, and a check. Sources, later ones winning:
// defaults, the TOML file (--config), the deployment environment (LMS_READ_CONFIG_FILE's
// config.json with INIT_SOURCE / INIT_TARGET, LMS_SHADOW_MODE, LMS_LOGGING), then flags.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lms::core {

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

struct Config {
  std::string source_dialect;
  std::string target_dialect;
  HostPort listen;
  HostPort http_listen;
  std::string source;  // connection strings: secrets, never logged
  std::string target;
  std::string shadow_mode;
  std::string plugin_dir;
  unsigned workers = 1;
  std::string auth_method;
  std::string log_level;
  uint32_t max_connections = 0;
  uint32_t connect_timeout_ms = 0;
  uint32_t buffer_limit = 0;             // bytes queued toward one peer before its feeder stops being read
  uint32_t server_pool_size = 0;         // reset database connections kept per worker for reuse
  std::string pool_mode = "session";     // or "transaction": a database connection per transaction
  uint64_t pool_timeout_ms = 30000;      // transaction mode: longest wait for a database connection
  uint32_t max_prepared_statements = 200;  // transaction mode: per database connection
  bool pool_cache_unnamed = false;         // transaction mode: unnamed statements kept prepared by name
  bool transaction_pooling() const { return pool_mode == "transaction"; }
  uint32_t server_idle_timeout_ms = 0;   // how long a kept one may wait for a client
  uint32_t shadow_timeout_ms = 0;        // how long a client's answer may wait for the target
  uint32_t shutdown_grace_ms = 0;        // how long a SIGTERM waits for busy sessions
  std::string state_file;                // where the cutover state survives a restart; empty: nowhere
  bool shadow_validate = true;           // the shadow plugin is asked to compare answers
  std::string shadow_ignore_statements;  // regex over normalized statements; empty: none
  std::vector<std::string> shadow_ignore_columns;
  std::string mismatch_file;     // JSON lines of mismatches; empty: none
  std::string control_tls_cert;  // HTTPS on the HTTP port; empty: plain HTTP
  std::string control_tls_key;
  std::string control_tls_ca;  // CA of the client certificates the control API requires
  bool allow_insecure_control = false;
  std::string auth_file;  // users and SCRAM verifiers; empty: the source's user only
  std::string auth_query;  // the users and verifiers, read from the source ("default": pg_authid)
  // The secret's TARGET_USERS: user → its password on the target, where the target holds it with
  // another verifier than the source. Never logged.
  std::map<std::string, std::string> target_users;
  uint32_t auth_refresh_ms = 10000;
  std::string ssl_cert;   // TLS with clients
  std::string ssl_key;
  std::string ssl_ca;
  std::string client_tls;  // off | on | require | verify; empty: on with a certificate
  bool allow_tls_mode_disable = false;
};

struct Setting {
  const char* name;
  const char* default_value;  // nullptr: required
  const char* help;
};

const std::vector<Setting>& settings();

// What the command line asked for besides settings.
struct CommandLine {
  bool help = false;
  bool version = false;
  std::optional<std::string> config_file;
  std::map<std::string, std::string> values;
};

// Parses argv; on error returns nullopt with *error naming the flag.
std::optional<CommandLine> parse_command_line(int argc, const char* const* argv, std::string* error);

// Merges every source into a checked Config; on error returns nullopt with *error naming the key
// and where its value came from.
std::optional<Config> load_config(const CommandLine& command_line, std::string* error);

std::string usage();

}  // namespace lms::core
