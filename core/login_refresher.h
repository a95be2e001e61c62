// auth-query: the users who may log in, read from the source database over the connection string's
// account at start and again every auth-refresh, on a thread of its own (the dialect's call
// blocks). A read that fails keeps the users of the last one that did, with a warning; a change is
// published to the front settings and logged by its count, never by its verifiers.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "endpoint.h"
#include "front_settings.h"

namespace lms::core {

class LoginRefresher {
 public:
  using Publish = std::function<void(const AuthUsers&)>;

  LoginRefresher(const lms_dialect_functions* dialect, const Endpoint& source, std::string query,
                 uint32_t interval_ms, Publish publish);
  ~LoginRefresher();
  LoginRefresher(const LoginRefresher&) = delete;
  LoginRefresher& operator=(const LoginRefresher&) = delete;

  // The first read, before any client is served: false with *error when it fails. Published by
  // publish_first().
  bool load(std::string* error);
  void publish_first();
  // Reads again every interval until destroyed.
  void start();
  // Whether the last read listed `user`.
  bool lists(const std::string& user) const;

 private:
  std::optional<AuthUsers> read(std::string* error) const;
  void run();

  const lms_dialect_functions* dialect_;
  const Endpoint& source_;
  std::string query_;  // "" for the dialect's own
  uint32_t interval_ms_;
  Publish publish_;
  AuthUsers last_;
  std::mutex mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lms::core
