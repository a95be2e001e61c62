// JSON over cpp-httplib, as both control APIs speak it (the proxy's and the orchestrator's):
// bodies are JSON objects; an error is {"error": "..."} with a 4xx or 5xx status.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace lms::control {

inline void reply(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump() + "\n", "application/json");
}

// `extra`, when given, is sent along as "cutover" (the attempt the error is about).
inline void reply_error(httplib::Response& res, int status, const std::string& message,
                        const nlohmann::json& extra = nullptr) {
  nlohmann::json body{{"error", message}};
  if (!extra.is_null()) body["cutover"] = extra;
  reply(res, status, body);
}

// Parses the request's body (empty means {}); answers 415 unless it is sent as application/json,
// and 400 when it is not a JSON object, returning false. The content type is what keeps another
// site's page from driving the API through an operator's browser: a cross-site request can carry
// text/plain without asking, but application/json only after a CORS preflight, which is refused
// unless --allow-origin names that site.
inline bool parse_body(const httplib::Request& req, httplib::Response& res, nlohmann::json* body) {
  const std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) != 0) {
    reply_error(res, 415, "the request body must be sent with Content-Type: application/json");
    return false;
  }
  try {
    *body = req.body.empty() ? nlohmann::json::object() : nlohmann::json::parse(req.body);
    if (!body->is_object()) throw std::invalid_argument("not an object");
    return true;
  } catch (const std::exception&) {
    reply_error(res, 400, "the request body must be a JSON object");
    return false;
  }
}

}  // namespace lms::control
