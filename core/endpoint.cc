#include "endpoint.h"

#include <uv.h>

#include <charconv>
#include <cstring>

namespace lms::core {

std::string Endpoint::param(const std::string& key) const {
  for (const auto& [k, v] : params) {
    if (k == key) return v;
  }
  return {};
}

std::string Endpoint::describe() const {
  std::string text =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  if (const auto db = param("dbname"); !db.empty()) text += "/" + db;
  if (const auto user = param("user"); !user.empty()) text += " as " + user;
  return text;
}

std::vector<lms_kv> Endpoint::kvs() const {
  std::vector<lms_kv> out;
  out.reserve(params.size());
  for (const auto& [k, v] : params) out.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  return out;
}

std::vector<lms_kv> login_params(const Endpoint& endpoint, const Params& credentials, const Params& startup) {
  std::vector<lms_kv> out;
  out.reserve(endpoint.params.size() + credentials.size() + startup.size());
  auto add = [&out](const std::string& k, const std::string& v) {
    out.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  };
  for (const auto& [k, v] : endpoint.params) {
    if (!credentials.empty() && (k == "user" || k == "password")) continue;
    add(k, v);
  }
  for (const auto& [k, v] : credentials) add(k, v);
  for (const auto& [k, v] : startup) {
    if (!k.starts_with("lms.")) add(k, v);  // the front's own memo, never a database's
  }
  return out;
}

std::optional<Endpoint> parse_endpoint(const lms_dialect_functions* dialect, const std::string& text,
                                       std::string* error) {
  Endpoint e;
  char reason[512] = {};
  const uint32_t status = dialect->parse_connection_string(
      text.data(), text.size(), &e.params,
      [](void* ctx, lms_str k, lms_str v) {
        static_cast<decltype(e.params)*>(ctx)->emplace_back(std::string(k.data, k.len),
                                                            std::string(v.data, v.len));
      },
      reason, sizeof reason);
  if (status != LMS_OK) {
    *error = reason[0] != '\0' ? reason : "invalid connection string";
    return std::nullopt;
  }
  e.host = e.param("host");
  if (e.host.empty()) e.host = e.param("hostaddr");
  if (e.host.empty()) e.host = "localhost";
  if (e.host.find(',') != std::string::npos) {
    *error = "several hosts in one connection string are not supported; put one behind a load balancer";
    return std::nullopt;
  }
  if (e.host.front() == '/' || e.host.front() == '@') {
    *error = "Unix-domain socket hosts are not supported; give a host name or address";
    return std::nullopt;
  }
  const std::string port = e.param("port");
  e.port = dialect->default_port;
  if (!port.empty()) {
    unsigned p = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
    if (ec != std::errc() || ptr != port.data() + port.size() || p == 0 || p > 65535) {
      *error = "invalid port '" + port + "'";
      return std::nullopt;
    }
    e.port = static_cast<uint16_t>(p);
  }
  sockaddr_storage addr{};
  if (uv_ip4_addr(e.host.c_str(), e.port, reinterpret_cast<sockaddr_in*>(&addr)) == 0 ||
      uv_ip6_addr(e.host.c_str(), e.port, reinterpret_cast<sockaddr_in6*>(&addr)) == 0) {
    e.address = addr;
  }
  return e;
}

}  // namespace lms::core
