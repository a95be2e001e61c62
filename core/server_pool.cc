#include "server_pool.h"

#include "plugin_loader.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>

namespace lms::core {
namespace {

// A kept connection must be silent: the database has nothing to say to an idle session, so any
// byte, an end of file or an error means it was closed (idle timeout, restart, terminated
// backend) or is in an unknown state. Either way it is not handed out.
bool still_quiet(uv_os_sock_t socket) {
  pollfd p{socket, POLLIN | POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 0;
}

void append_field(std::string& key, const char* data, size_t len) {
  key.append(std::to_string(len));
  key.push_back(':');
  key.append(data, len);
}

}  // namespace

std::string ServerPool::key_of(uint8_t role, const std::string& endpoint, const std::vector<lms_kv>& params) {
  // Length-prefixed fields: no parameter value can make two different sessions look alike.
  std::string key(1, static_cast<char>('0' + role));
  append_field(key, endpoint.data(), endpoint.size());
  for (const lms_kv& kv : params) {
    append_field(key, kv.key.data, kv.key.len);
    append_field(key, kv.value.data, kv.value.len);
  }
  return key;
}

std::optional<KeptConnection> ServerPool::take(const std::string& key, uint64_t now_ms) {
  const auto it = kept_.find(key);
  if (it == kept_.end()) return std::nullopt;
  auto& list = it->second;
  std::optional<KeptConnection> found;
  while (!list.empty() && !found) {
    KeptConnection c = std::move(list.back());
    list.pop_back();
    --size_;
    if (now_ms - c.kept_at_ms < idle_timeout_ms_ && still_quiet(c.socket)) {
      found = std::move(c);
    } else {
      close_kept(c);
    }
  }
  if (list.empty()) kept_.erase(it);
  count();
  return found;
}

void ServerPool::keep(const std::string& key, KeptConnection c, uint64_t now_ms) {
  if (size_ >= capacity_) {
    close_kept(c);
    return;
  }
  c.kept_at_ms = now_ms;
  kept_[key].push_back(std::move(c));
  ++size_;
  count();
}

void ServerPool::expire(uint64_t now_ms) {
  for (auto it = kept_.begin(); it != kept_.end();) {
    auto& list = it->second;
    // Oldest first: the ones past the timeout are a prefix.
    const auto fresh = std::find_if(list.begin(), list.end(), [&](const KeptConnection& c) {
      return now_ms - c.kept_at_ms < idle_timeout_ms_;
    });
    for (auto old = list.begin(); old != fresh; ++old) close_kept(*old);
    size_ -= static_cast<size_t>(fresh - list.begin());
    list.erase(list.begin(), fresh);
    it = list.empty() ? kept_.erase(it) : std::next(it);
  }
  count();
}

void ServerPool::clear() {
  for (auto& [key, list] : kept_) {
    for (KeptConnection& c : list) close_kept(c);
  }
  kept_.clear();
  size_ = 0;
  count();
}

void ServerPool::close_kept(KeptConnection& c) {
  if (c.socket < 0) return;
  // A polite goodbye, so the database logs a client that left rather than one that vanished. The
  // socket is idle and non-blocking: a few bytes always fit, and a failure changes nothing.
  if (c.dialect != nullptr && has_encode_terminate(c.dialect)) {
    std::string bytes;
    const lms_emitter collect = {sizeof(lms_emitter), &bytes, [](void* ctx, const uint8_t* d, size_t n) {
                                   static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(d),
                                                                          n);
                                 }};
    c.dialect->encode_terminate(&collect);
    [[maybe_unused]] const ssize_t sent =
        ::send(c.socket, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  ::close(c.socket);
  c.socket = -1;
}

}  // namespace lms::core
