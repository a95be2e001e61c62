#include "connection_string.h"

#include <cctype>
#include <map>
#include <optional>

namespace lms::mysql {
namespace {

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A parameter under its canonical name and value; "" when it is not one lms knows.
bool canonical(std::string_view key, std::string_view value, std::string* out_key, std::string* out_value,
               std::string* error) {
  const std::string k = lower(key);
  *out_value = std::string(value);
  if (k == "sslmode") {
    *out_key = "sslmode";
    return true;
  }
  if (k == "ssl-mode" || k == "ssl_mode") {
    static const std::map<std::string, std::string> kModes = {{"disabled", "disable"},
                                                              {"preferred", "prefer"},
                                                              {"required", "require"},
                                                              {"verify_ca", "verify-ca"},
                                                              {"verify_identity", "verify-full"}};
    const auto it = kModes.find(lower(value));
    if (it == kModes.end()) {
      *error = "ssl-mode must be DISABLED, PREFERRED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY";
      return false;
    }
    *out_key = "sslmode";
    *out_value = it->second;
    return true;
  }
  if (k == "tls") {
    static const std::map<std::string, std::string> kModes = {
        {"true", "verify-full"}, {"skip-verify", "require"}, {"preferred", "prefer"}, {"false", "disable"}};
    const auto it = kModes.find(lower(value));
    if (it == kModes.end()) {
      *error = "tls must be true, skip-verify, preferred or false";
      return false;
    }
    *out_key = "sslmode";
    *out_value = it->second;
    return true;
  }
  static const std::map<std::string, std::string> kNames = {{"sslrootcert", "sslrootcert"},
                                                            {"ssl-ca", "sslrootcert"},
                                                            {"ssl_ca", "sslrootcert"},
                                                            {"sslcert", "sslcert"},
                                                            {"ssl-cert", "sslcert"},
                                                            {"ssl_cert", "sslcert"},
                                                            {"sslkey", "sslkey"},
                                                            {"ssl-key", "sslkey"},
                                                            {"ssl_key", "sslkey"},
                                                            {"host", "host"},
                                                            {"port", "port"},
                                                            {"user", "user"},
                                                            {"password", "password"},
                                                            {"dbname", "dbname"},
                                                            {"database", "dbname"},
                                                            {"connect_timeout", "connect_timeout"},
                                                            {"timeout", "connect_timeout"},
                                                            {"application_name", "application_name"}};
  const auto it = kNames.find(k);
  if (it == kNames.end()) {
    out_key->clear();  // a driver option lms has no use for (charset, parseTime, ...)
    return true;
  }
  *out_key = it->second;
  return true;
}

std::string emit(std::string_view key, std::string_view value,
                 const std::function<void(std::string_view, std::string_view)>& on_param) {
  std::string k;
  std::string v;
  std::string error;
  if (!canonical(key, value, &k, &v, &error)) return error;
  if (k == "port") {
    if (v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(v) == 0 || std::stoi(v) > 65535) {
      return "invalid port \"" + v + "\"";
    }
  }
  if (!k.empty()) on_param(k, v);
  return "";
}

// host, host:port, [v6]:port.
std::string split_address(std::string_view address,
                          const std::function<void(std::string_view, std::string_view)>& on_param) {
  if (address.empty()) return "";
  std::string_view host = address;
  std::string_view port;
  if (address.front() == '[') {
    const size_t close = address.find(']');
    if (close == std::string_view::npos) return "unterminated [ in the host";
    host = address.substr(1, close - 1);
    if (close + 1 < address.size()) {
      if (address[close + 1] != ':') return "expected :port after ]";
      port = address.substr(close + 2);
    }
  } else if (const size_t colon = address.rfind(':'); colon != std::string_view::npos) {
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (!host.empty()) on_param("host", host);
  if (!port.empty()) return emit("port", port, on_param);
  return "";
}

std::string parse_query(std::string_view query,
                        const std::function<void(std::string_view, std::string_view)>& on_param) {
  // The documentation's examples chain parameters with a second '?': accept it as '&'.
  size_t start = 0;
  while (start <= query.size()) {
    size_t end = query.find_first_of("&?", start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      const size_t eq = pair.find('=');
      if (eq == std::string_view::npos) return "parameter \"" + std::string(pair) + "\" has no value";
      const auto value = percent_decode(pair.substr(eq + 1));
      if (!value) return "invalid percent-encoding in parameter " + std::string(pair.substr(0, eq));
      if (std::string e = emit(pair.substr(0, eq), *value, on_param); !e.empty()) return e;
    }
    start = end + 1;
  }
  return "";
}

std::string parse_key_value(std::string_view text,
                            const std::function<void(std::string_view, std::string_view)>& on_param) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i >= text.size()) break;
    const size_t eq = text.find('=', i);
    if (eq == std::string_view::npos) return "expected key=value";
    const std::string_view key = text.substr(i, eq - i);
    size_t end = text.find(' ', eq + 1);
    if (end == std::string_view::npos) end = text.size();
    if (std::string e = emit(key, text.substr(eq + 1, end - eq - 1), on_param); !e.empty()) return e;
    i = end;
  }
  return "";
}

}  // namespace

std::string parse_connection_string(std::string_view text,
                                    const std::function<void(std::string_view, std::string_view)>& on_param) {
  if (text.empty()) return "empty connection string";
  std::string_view rest = text;
  const bool url = rest.rfind("mysql://", 0) == 0;
  if (url) rest.remove_prefix(8);
  const size_t at = rest.rfind('@');
  if (!url && at == std::string_view::npos) return parse_key_value(text, on_param);
  if (at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    const size_t colon = credentials.find(':');
    const auto user = percent_decode(credentials.substr(0, colon));
    if (!user) return "invalid percent-encoding in the user name";
    if (!user->empty()) on_param("user", *user);
    if (colon != std::string_view::npos) {
      // Go's driver takes the password verbatim; URLs percent-encode it. Decode only in URLs.
      const std::string_view raw = credentials.substr(colon + 1);
      const auto password = url ? percent_decode(raw) : std::optional<std::string>(std::string(raw));
      if (!password) return "invalid percent-encoding in the password";
      on_param("password", *password);
    }
    rest = rest.substr(at + 1);
  }
  std::string_view address;
  if (!url) {
    // tcp(host:port) or (host:port), as the Go driver and the documentation write it.
    if (rest.rfind("tcp(", 0) == 0) rest.remove_prefix(3);
    if (rest.empty() || rest.front() != '(') return "expected (host:port) or tcp(host:port) after @";
    const size_t close = rest.find(')');
    if (close == std::string_view::npos) return "unterminated (host:port)";
    address = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
  } else {
    const size_t slash = rest.find_first_of("/?");
    address = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  }
  if (std::string e = split_address(address, on_param); !e.empty()) return e;
  std::string_view query;
  if (const size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!rest.empty()) {
    if (rest.front() != '/') return "expected /database after the address";
    const auto db = percent_decode(rest.substr(1));
    if (!db) return "invalid percent-encoding in the database name";
    if (!db->empty()) on_param("dbname", *db);
  }
  return parse_query(query, on_param);
}

}  // namespace lms::mysql
