// The mismatch file: one JSON line per request whose answers differed, written by a background
// thread (spdlog's asynchronous logger over a file sink) so a worker never waits for the disk.
// Under a flood the oldest lines not yet written give way (counted in lms_shadow_mismatch_lines_dropped).
#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
namespace details {
class thread_pool;
}
}  // namespace spdlog

namespace lms::core {

class MismatchLog {
 public:
  // Opens (appending) or fails with *error.
  static std::unique_ptr<MismatchLog> open(const std::string& path, std::string* error);
  ~MismatchLog();
  void write(const std::string& line);
  uint64_t dropped() const;

 private:
  MismatchLog() = default;
  std::shared_ptr<spdlog::details::thread_pool> pool_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace lms::core
