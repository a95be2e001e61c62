#include "front_settings.h"

namespace lms::core {

FrontSettings::FrontSettings(std::vector<std::pair<std::string, std::string>> base, const AuthUsers& users)
    : values_(std::move(base)), users_(users) {
  for (const auto& [name, verifier] : users) {
    values_.emplace_back("auth_user", name);
    values_.emplace_back("auth_verifier", verifier);
  }
  kvs_.reserve(values_.size());
  for (const auto& [k, v] : values_) kvs_.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
}

}  // namespace lms::core
