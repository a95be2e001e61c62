#include "log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace lms::core {
namespace {

void plugin_log(uint32_t level, const char* message, size_t len) {
  const std::string_view text(message, len);
  switch (level) {
    case LMS_LOG_DEBUG:
      spdlog::debug("plugin: {}", text);
      break;
    case LMS_LOG_INFO:
      spdlog::info("plugin: {}", text);
      break;
    case LMS_LOG_WARN:
      spdlog::warn("plugin: {}", text);
      break;
    default:
      spdlog::error("plugin: {}", text);
      break;
  }
}

const lms_host_api kHostApi = {sizeof(lms_host_api), plugin_log};

}  // namespace

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  // from_str answers "off" for names it does not know.
  if (parsed == spdlog::level::off && level != "off") return false;
  spdlog::set_level(parsed);
  return true;
}

void init_logging() {
  auto logger = spdlog::stderr_logger_mt("lms");
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  spdlog::set_default_logger(logger);
  spdlog::flush_on(spdlog::level::info);
}

const lms_host_api* host_api() { return &kHostApi; }

}  // namespace lms::core
