// Logging for the whole proxy: spdlog to standard error, one line per event, key=value fields.
#pragma once

#include <lms/plugin.h>
#include <spdlog/spdlog.h>

#include <string>

namespace lms::core {

// Sets the level from a name (debug, info, warn, error); false if the name is unknown.
bool set_log_level(const std::string& level);
void init_logging();
// The host API handed to plugins: their log lines go through the same logger.
const lms_host_api* host_api();

}  // namespace lms::core
