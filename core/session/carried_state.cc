#include "session/carried_state.h"

#include <algorithm>

namespace lms::core {

CarriedState::Outcome CarriedState::take(const lms_message_detail& d, const std::string& message,
                                         uint32_t frame_flags) {
  const std::string name(d.name.data != nullptr ? d.name.data : "", d.name.len);
  switch (d.effect) {
    case LMS_EFFECT_PREPARE:
      if (name.empty()) return Outcome::kAwaitsName;
      statements_[name] = message;
      break;
    case LMS_EFFECT_BIND:
      if ((frame_flags & LMS_FRAME_FLAG_TYPES) && statements_.count(name) > 0)
        statement_types_[name] = message;
      break;
    case LMS_EFFECT_DEALLOCATE:
      statements_.erase(name);
      statement_types_.erase(name);
      break;
    case LMS_EFFECT_DEALLOCATE_ALL:
      statements_.clear();
      statement_types_.clear();
      break;
    case LMS_EFFECT_SETTING: {
      auto it =
          std::find_if(settings_.begin(), settings_.end(), [&](const auto& s) { return s.first == name; });
      if (it == settings_.end()) {
        settings_.emplace_back(name, message);
      } else {
        it->second = message;
      }
      break;
    }
    case LMS_EFFECT_RESET_SETTINGS:
      settings_.clear();
      break;
    case LMS_EFFECT_DISCARD_ALL:
      settings_.clear();
      statements_.clear();
      statement_types_.clear();
      held_.clear();
      break;
    case LMS_EFFECT_HOLDS: {
      const std::string kind = name.substr(0, kMaxHeldKindBytes);
      if (!kind.empty() && held_.size() < kMaxHeldKinds &&
          std::find(held_.begin(), held_.end(), kind) == held_.end()) {
        held_.push_back(kind);
      }
      break;
    }
    case LMS_EFFECT_RELEASES:
      held_.erase(std::remove(held_.begin(), held_.end(), name.substr(0, kMaxHeldKindBytes)), held_.end());
      break;
    default:
      break;
  }
  return Outcome::kNone;
}

std::vector<std::string> CarriedState::replay() const {
  std::vector<std::string> out;
  out.reserve(settings_.size() + statements_.size());
  for (const auto& [name, message] : settings_) out.push_back(message);
  for (const auto& [name, message] : statements_) out.push_back(message);
  return out;
}

std::vector<std::pair<std::string, std::string>> CarriedState::prepared_statements() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, message] : statements_) {
    const auto types = statement_types_.find(name);
    out.emplace_back(name, types == statement_types_.end() ? message : message + types->second);
  }
  return out;
}

const std::string* CarriedState::statement(const std::string& name) const {
  const auto it = statements_.find(name);
  return it == statements_.end() ? nullptr : &it->second;
}

}  // namespace lms::core
