#include "discovery.h"

#include <netdb.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>

namespace lms::orchestrator {

ProxyDiscovery::ProxyDiscovery(std::string name, uint16_t port, uint32_t interval_ms)
    : name_(std::move(name)), port_(port), interval_ms_(interval_ms) {}

ProxyDiscovery::~ProxyDiscovery() { stop(); }

bool ProxyDiscovery::resolve(std::vector<std::string>* addresses, std::string* error) {
  addresses->clear();
  if (name_.empty()) {
    *error = "no proxies: give --lms-addresses (or --lms-dns) to the orchestrator, or -l to the command";
    return false;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* result = nullptr;
  const int rc = getaddrinfo(name_.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    *error = "cannot resolve " + name_ + ": " + gai_strerror(rc);
    ++failures_;
    return false;
  }
  for (addrinfo* a = result; a != nullptr; a = a->ai_next) {
    char host[NI_MAXHOST];
    if (getnameinfo(a->ai_addr, a->ai_addrlen, host, sizeof host, nullptr, 0, NI_NUMERICHOST) != 0) continue;
    const std::string h = a->ai_family == AF_INET6 ? "[" + std::string(host) + "]" : host;
    addresses->push_back(h + ":" + std::to_string(port_));
  }
  freeaddrinfo(result);
  std::sort(addresses->begin(), addresses->end());
  addresses->erase(std::unique(addresses->begin(), addresses->end()), addresses->end());
  if (addresses->empty()) {
    *error = name_ + " resolves to no address";
    return false;
  }
  note(*addresses);
  return true;
}

void ProxyDiscovery::note(const std::vector<std::string>& now) {
  std::lock_guard lock(mutex_);
  known_ = now.size();
  if (!seen_once_) {
    seen_once_ = true;
    last_ = now;
    spdlog::info("{} resolves to {} proxies", name_, now.size());
    return;
  }
  if (now == last_) return;
  for (const auto& a : now) {
    if (!std::binary_search(last_.begin(), last_.end(), a)) spdlog::info("proxy {} appeared ({})", a, name_);
  }
  for (const auto& a : last_) {
    if (!std::binary_search(now.begin(), now.end(), a)) spdlog::info("proxy {} went away ({})", a, name_);
  }
  ++changes_;
  last_ = now;
}

void ProxyDiscovery::start() {
  if (name_.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { run(); });
}

void ProxyDiscovery::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ProxyDiscovery::run() {
  bool failing = false;
  for (;;) {
    std::vector<std::string> addresses;
    std::string error;
    if (!resolve(&addresses, &error)) {
      // Said once per outage, not once per interval.
      if (!failing) spdlog::warn("proxy discovery: {}", error);
      failing = true;
      known_ = 0;
    } else {
      if (failing) spdlog::info("proxy discovery: {} resolves again", name_);
      failing = false;
    }
    std::unique_lock lock(mutex_);
    if (wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) return;
  }
}

}  // namespace lms::orchestrator
