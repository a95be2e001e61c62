// The control plane's JSON: one encoder and one decoder per struct of model.h, used by the proxy
// that serves it and by every client that reads it. Field names are the ones lms-cli prints with
// --output-type json.
#pragma once

#include <nlohmann/json.hpp>

#include "model.h"

namespace lms::control {

void to_json(nlohmann::json& j, const Cutover& c);
void from_json(const nlohmann::json& j, Cutover& c);
void to_json(nlohmann::json& j, const Status& s);
void from_json(const nlohmann::json& j, Status& s);
void to_json(nlohmann::json& j, const Connection& c);
void from_json(const nlohmann::json& j, Connection& c);
void to_json(nlohmann::json& j, const BeginOptions& o);
void from_json(const nlohmann::json& j, BeginOptions& o);

// "2024-02-15 19:10:06.991048 +0000 UTC", the form the tables show; "" for 0.
std::string format_time(int64_t unix_ns);

// A dialect as people name it: postgres → PostgreSQL, cockroach → Cockroach, mysql → MySQL.
std::string display_dialect(const std::string& dialect);

}  // namespace lms::control
