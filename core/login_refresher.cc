#include "login_refresher.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace lms::core {
namespace {

constexpr uint32_t kQueryTimeoutMs = 10000;

}  // namespace

LoginRefresher::LoginRefresher(const lms_dialect_functions* dialect, const Endpoint& source,
                               std::string query, uint32_t interval_ms, Publish publish)
    : dialect_(dialect),
      source_(source),
      query_(query == "default" ? std::string() : std::move(query)),
      interval_ms_(interval_ms),
      publish_(std::move(publish)) {}

LoginRefresher::~LoginRefresher() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<AuthUsers> LoginRefresher::read(std::string* error) const {
  AuthUsers users;
  const lms_login_sink sink{&users, [](void* ctx, lms_str user, lms_str verifier) {
                              try {
                                static_cast<AuthUsers*>(ctx)->emplace_back(
                                    std::string(user.data, user.len),
                                    std::string(verifier.data, verifier.len));
                              } catch (...) {  // out of memory: fewer users this time
                              }
                            }};
  const auto params = source_.kvs();
  char reason[512] = {};
  if (dialect_->list_logins(params.data(), params.size(), query_.data(), query_.size(), kQueryTimeoutMs,
                            &sink, reason, sizeof reason) != LMS_OK) {
    *error = reason;
    return std::nullopt;
  }
  return users;
}

bool LoginRefresher::load(std::string* error) {
  auto users = read(error);
  if (!users) return false;
  last_ = std::move(*users);
  return true;
}

void LoginRefresher::publish_first() {
  publish_(last_);
  spdlog::info("{} users may log in, each as itself (read from the source {})", last_.size(),
               source_.describe());
}

bool LoginRefresher::lists(const std::string& user) const {
  for (const auto& [name, verifier] : last_) {
    if (name == user) return true;
  }
  return false;
}

void LoginRefresher::start() {
  thread_ = std::thread([this] { run(); });
}

void LoginRefresher::run() {
  bool failing = false;
  std::unique_lock lock(mutex_);
  while (
      !stop_signal_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) {
    lock.unlock();
    std::string error;
    auto users = read(&error);
    if (!users) {
      if (!failing)
        spdlog::warn("cannot read the users from the source (keeping the last {}): {}", last_.size(), error);
      failing = true;
    } else {
      if (failing) spdlog::info("the users can be read from the source again");
      failing = false;
      if (*users != last_) {
        last_ = std::move(*users);
        publish_(last_);
        spdlog::info("{} users may log in (auth query, changed)", last_.size());
      }
    }
    lock.lock();
  }
}

}  // namespace lms::core
