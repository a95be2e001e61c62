#include "mismatch_log.h"

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>

namespace lms::core {

std::unique_ptr<MismatchLog> MismatchLog::open(const std::string& path, std::string* error) {
  std::unique_ptr<MismatchLog> log(new MismatchLog());
  try {
    auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
    sink->set_pattern("%v");
    // One thread, 8192 lines queued at most.
    log->pool_ = std::make_shared<spdlog::details::thread_pool>(8192, 1);
    log->logger_ = std::make_shared<spdlog::async_logger>("lms-mismatches", sink, log->pool_,
                                                          spdlog::async_overflow_policy::overrun_oldest);
    log->logger_->set_level(spdlog::level::info);
    log->logger_->flush_on(spdlog::level::info);
  } catch (const std::exception& e) {
    *error = "cannot open the mismatch file " + path + ": " + e.what();
    return nullptr;
  }
  return log;
}

MismatchLog::~MismatchLog() {
  if (logger_) logger_->flush();
}

void MismatchLog::write(const std::string& line) { logger_->info("{}", line); }

uint64_t MismatchLog::dropped() const { return pool_ ? pool_->overrun_counter() : 0; }

}  // namespace lms::core
