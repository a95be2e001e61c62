#include "cancel_registry.h"

#include <openssl/rand.h>

namespace lms::core {

std::string CancelRegistry::add(size_t key_len, size_t shown, CancelTarget target) {
  std::string key(key_len, '\0');
  // A database key too short to show (none given, a pooled or translated connection) shows nothing.
  if (shown > key_len || target.database_key.size() < shown) shown = 0;
  target.database_key.copy(key.data(), shown);
  std::lock_guard lock(mutex_);
  // The secret part is random so that one client cannot guess another's key; retry on the rare
  // collision.
  do {
    RAND_bytes(reinterpret_cast<unsigned char*>(key.data() + shown), static_cast<int>(key.size() - shown));
  } while (targets_.count(key) != 0);
  targets_.emplace(key, std::move(target));
  return key;
}

void CancelRegistry::remove(const std::string& proxy_key) {
  std::lock_guard lock(mutex_);
  targets_.erase(proxy_key);
}

void CancelRegistry::update(const std::string& proxy_key, CancelTarget target) {
  std::lock_guard lock(mutex_);
  if (const auto it = targets_.find(proxy_key); it != targets_.end()) it->second = std::move(target);
}

std::optional<CancelTarget> CancelRegistry::find(const std::string& proxy_key) const {
  std::lock_guard lock(mutex_);
  const auto it = targets_.find(proxy_key);
  if (it == targets_.end()) return std::nullopt;
  return it->second;
}

}  // namespace lms::core
