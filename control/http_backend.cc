#include "http_backend.h"

#include <arpa/inet.h>
#include <httplib.h>

#include "json.h"

namespace lms::control {
namespace {

using nlohmann::json;

std::string percent_encode(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// "https://10.1.2.3:9044" → "10.1.2.3", "https://[fd00::5]:9044" → "fd00::5"; false for http and
// host names.
bool split_https_ip(const std::string& url, std::string* ip) {
  static constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return false;
  const size_t colon = url.rfind(':');
  if (colon == std::string::npos || colon < kScheme.size()) return false;
  std::string host = url.substr(kScheme.size(), colon - kScheme.size());
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  in6_addr parsed{};
  if (inet_pton(AF_INET, host.c_str(), &parsed) != 1 && inet_pton(AF_INET6, host.c_str(), &parsed) != 1) {
    return false;
  }
  *ip = host;
  return true;
}

class HttpBackend final : public Backend {
 public:
  HttpBackend(std::string url, const ClientOptions& options) : url_(std::move(url)) {
    // An https URL naming a pod by its IP address: the client is made for the certificate's name
    // (so SNI and the host check use it) and told to connect to the IP address.
    std::string client_url = url_;
    std::string ip;
    if (!options.tls_server_name.empty() && split_https_ip(url_, &ip)) {
      client_url = "https://" + options.tls_server_name + url_.substr(url_.rfind(':'));
    }
    if (!options.tls_client_cert.empty() || !options.tls_client_key.empty()) {
      client_ = std::make_unique<httplib::Client>(client_url, options.tls_client_cert, options.tls_client_key);
    } else {
      client_ = std::make_unique<httplib::Client>(client_url);
    }
    if (!ip.empty()) client_->set_hostname_addr_map({{options.tls_server_name, ip}});
    if (!options.tls_ca_cert.empty()) client_->set_ca_cert_path(options.tls_ca_cert.c_str());
    const auto seconds = static_cast<time_t>(options.timeout_ms / 1000);
    const auto micros = static_cast<time_t>((options.timeout_ms % 1000) * 1000);
    client_->set_connection_timeout(seconds, micros);
    client_->set_read_timeout(seconds, micros);
    client_->set_write_timeout(seconds, micros);
  }

  bool status(Status* out, std::string* error) override { return get("/v1/status", out, error); }

  bool connections(std::vector<Connection>* out, std::string* error) override {
    json body;
    if (!call("GET", "/v1/connections", nullptr, &body, error)) return false;
    return decode(body.at("connections"), out, error);
  }

  bool begin(const BeginOptions& options, Cutover* out, std::string* error) override {
    const json request = options;
    return post("/v1/cutover/begin", request, out, error);
  }
  bool commit(uint64_t id, Cutover* out, std::string* error) override {
    return post("/v1/cutover/commit", json{{"id", id}}, out, error);
  }
  bool abort(uint64_t id, Cutover* out, std::string* error) override {
    return post("/v1/cutover/abort", json{{"id", id}}, out, error);
  }
  bool cutover(Cutover* out, std::string* error) override { return get("/v1/cutover", out, error); }

  bool replication_mark(const std::string& token, std::string* error) override {
    json body;
    const json request{{"token", token}};
    return call("POST", "/v1/replication/mark", &request, &body, error);
  }
  bool replication_seen(const std::string& token, bool* seen, std::string* error) override {
    json body;
    if (!call("GET", "/v1/replication/seen?token=" + percent_encode(token), nullptr, &body, error)) {
      return false;
    }
    return decode(body.at("seen"), seen, error);
  }

  bool replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error) override {
    json body;
    const json request = json::object();
    if (!call("POST", "/v1/replication/prepare", &request, &body, error)) return false;
    return decode(body.at("created_on_source_of_truth"), created_on_truth, error) &&
           decode(body.at("created_on_other"), created_on_other, error);
  }

  bool open_transactions(uint64_t min_age_ms, std::vector<OpenTransaction>* out,
                         std::string* error) override {
    json body;
    if (!call("GET", "/v1/transactions?min_age_ms=" + std::to_string(min_age_ms), nullptr, &body, error)) {
      return false;
    }
    return decode(body.at("transactions"), out, error);
  }

  bool other_rows_written(uint64_t* rows, std::string* error) override {
    json body;
    if (!call("GET", "/v1/other/rows_written", nullptr, &body, error)) return false;
    return decode(body.at("rows_written"), rows, error);
  }

  bool replication_position(ReplicationPosition* out, std::string* error) override {
    json body;
    if (!call("GET", "/v1/replication/position", nullptr, &body, error)) return false;
    return decode(body, out, error);
  }

  bool check_other_logins(std::vector<NameCheck>* out, std::string* error) override {
    json body;
    if (!call("GET", "/v1/other/logins", nullptr, &body, error)) return false;
    return decode(body.at("logins"), out, error);
  }

  bool check_other_tables(const std::vector<std::string>& names, std::vector<NameCheck>* out,
                          std::string* error) override {
    json body;
    const json request{{"names", names}};
    if (!call("POST", "/v1/other/tables", &request, &body, error)) return false;
    return decode(body.at("tables"), out, error);
  }

  bool fence_other(bool on, std::string* error) override {
    json body;
    const json request{{"on", on}};
    return call("POST", "/v1/other/fence", &request, &body, error);
  }

  bool shadow_report(std::string* json_text, std::string* error) override {
    json body;
    if (!call("GET", "/v1/shadow/report", nullptr, &body, error)) return false;
    *json_text = body.dump();
    return true;
  }
  bool metrics(std::string* text, std::string* error) override {
    const httplib::Result result = client_->Get("/metrics");
    if (!result) {
      *error = url_ + ": " + httplib::to_string(result.error());
      return false;
    }
    if (result->status != 200) {
      *error = url_ + ": GET /metrics answered " + std::to_string(result->status);
      return false;
    }
    *text = result->body;
    return true;
  }

 private:
  template <typename T>
  bool decode(const json& j, T* out, std::string* error) {
    try {
      j.get_to(*out);
      return true;
    } catch (const std::exception& e) {
      *error = url_ + ": unexpected answer: " + e.what();
      return false;
    }
  }
  template <typename T>
  bool get(const std::string& path, T* out, std::string* error) {
    json body;
    return call("GET", path, nullptr, &body, error) && decode(body, out, error);
  }
  template <typename T>
  bool post(const std::string& path, const json& request, T* out, std::string* error) {
    json body;
    return call("POST", path, &request, &body, error) && decode(body, out, error);
  }

  bool call(const char* method, const std::string& path, const json* request, json* body,
            std::string* error) {
    const httplib::Result result =
        request == nullptr ? client_->Get(path) : client_->Post(path, request->dump(), "application/json");
    if (!result) {
      *error = url_ + ": " + httplib::to_string(result.error());
      return false;
    }
    try {
      *body = json::parse(result->body);
    } catch (const std::exception&) {
      *error = url_ + ": " + method + " " + path + " answered " + std::to_string(result->status) +
               " with something that is not JSON";
      return false;
    }
    if (result->status / 100 != 2) {
      *error = body->value("error", "HTTP " + std::to_string(result->status));
      return false;
    }
    return true;
  }

  std::string url_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace

std::unique_ptr<Backend> make_http_backend(const std::string& url, const ClientOptions& options) {
  return std::make_unique<HttpBackend>(url, options);
}

}  // namespace lms::control
