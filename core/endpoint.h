// A database as the proxy reaches it: the parameters of its connection string (parsed by the
// dialect), where to connect, and a description safe to log.
#pragma once

#include <lms/plugin.h>
#include <sys/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lms::core {

struct DatabaseTls;

struct Endpoint {
  std::vector<std::pair<std::string, std::string>> params;
  std::string host;
  uint16_t port = 0;
  // Set when host is an address literal, so sessions connect without a DNS lookup.
  std::optional<sockaddr_storage> address;
  // TLS toward it, from the connection string's ssl* parameters (set up at start).
  std::shared_ptr<const DatabaseTls> tls;

  std::string param(const std::string& key) const;
  // host:port/dbname as user; never the password.
  std::string describe() const;
  // Borrowed views of params, valid while this Endpoint lives unchanged.
  std::vector<lms_kv> kvs() const;
};

using Params = std::vector<std::pair<std::string, std::string>>;

// What a database login is given: the endpoint's parameters, then `credentials`, then `startup`
// (what the client asked for). With credentials (what the client's own authentication yielded,
// plugin ABI 1.9) the session logs in as the client's user (startup's), so the endpoint's user and
// password are left out. Startup parameters named "lms.*" are the front's own memo (plugin ABI
// 1.9) and go to no database. Views into all three, which must outlive the result.
std::vector<lms_kv> login_params(const Endpoint& endpoint, const Params& credentials, const Params& startup);

std::optional<Endpoint> parse_endpoint(const lms_dialect_functions* dialect, const std::string& text,
                                       std::string* error);

}  // namespace lms::core
