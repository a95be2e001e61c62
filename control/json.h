// The control plane's JSON: one encoder and one decoder per struct of model.h, used by the proxy
// that serves it and by every client that reads it. Field names are the ones lms-cli prints with
// --output-type json.
#pragma once

#include <nlohmann/json.hpp>

#include <concepts>
#include <limits>
#include <stdexcept>
#include <string>

#include "model.h"

namespace lms::control {

// An integer field of a request or an answer, checked: nlohmann converts 1e30 or -1 to an
// unsigned type without complaint (the first is undefined behaviour), so callers from outside
// get a clear refusal instead. Throws std::invalid_argument naming the field.
template <std::integral T>
T checked_integer(const nlohmann::json& value, const char* name) {
  const auto refuse = [name] {
    return std::invalid_argument(std::string(name) + " must be an integer from " +
                                 std::to_string(std::numeric_limits<T>::min()) + " to " +
                                 std::to_string(std::numeric_limits<T>::max()));
  };
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max())) throw refuse();
    return static_cast<T>(v);
  }
  if (value.is_number_integer()) {
    const auto v = value.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0 || static_cast<uint64_t>(v) > std::numeric_limits<T>::max()) throw refuse();
    } else {
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max()) throw refuse();
    }
    return static_cast<T>(v);
  }
  throw refuse();
}

void to_json(nlohmann::json& j, const Cutover& c);
void from_json(const nlohmann::json& j, Cutover& c);
void to_json(nlohmann::json& j, const Status& s);
void from_json(const nlohmann::json& j, Status& s);
void to_json(nlohmann::json& j, const Connection& c);
void from_json(const nlohmann::json& j, Connection& c);
void to_json(nlohmann::json& j, const OpenTransaction& t);
void from_json(const nlohmann::json& j, OpenTransaction& t);
void to_json(nlohmann::json& j, const ReplicationStream& s);
void from_json(const nlohmann::json& j, ReplicationStream& s);
void to_json(nlohmann::json& j, const ReplicationPosition& p);
void from_json(const nlohmann::json& j, ReplicationPosition& p);
void to_json(nlohmann::json& j, const NameCheck& t);
void from_json(const nlohmann::json& j, NameCheck& t);
void to_json(nlohmann::json& j, const BeginOptions& o);
void from_json(const nlohmann::json& j, BeginOptions& o);

// "2024-02-15 19:10:06.991048 +0000 UTC", the form the tables show; "" for 0.
std::string format_time(int64_t unix_ns);

// A dialect as people name it: postgres → PostgreSQL, cockroach → Cockroach, mysql → MySQL.
std::string display_dialect(const std::string& dialect);

}  // namespace lms::control
