// What the shipped shadow modes share: the `validate` option (on unless the configuration says
// off), read once at create, and the SDK's standard comparison of the two answers.
#pragma once

#include <lms/plugin.hpp>
#include <lms/validate.hpp>

namespace lms::shadow {

struct ModeOptions {
  bool validate = true;
};

inline void* create_mode(const lms_kv* options, size_t count) noexcept {
  return sdk::guard(
      [&]() -> void* { return new ModeOptions{sdk::option_enabled(options, count, "validate", true)}; },
      static_cast<void*>(nullptr));
}

inline void destroy_mode(void* self) noexcept { delete static_cast<ModeOptions*>(self); }

inline bool validates(void* self) { return static_cast<const ModeOptions*>(self)->validate; }

inline void compare_mode(void*, const lms_comparison* comparison, lms_verdict* out) noexcept {
  sdk::guard_void([&] { sdk::compare_answers(comparison, out); });
}

}  // namespace lms::shadow
