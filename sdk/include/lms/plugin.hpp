// Header-only C++ conveniences over plugin.h. Never required: a plugin in plain C works the same.
//
//   static const lms_dialect_functions kFunctions = {...};
//   LMS_DEFINE_PLUGIN(LMS_PLUGIN_DIALECT, "mydialect", "1.2.0", kFunctions)
//
// declares the one entry symbol, fills the descriptor with this SDK's ABI version, and answers the
// host's negotiation correctly, so no plugin can get that part wrong.
#ifndef LMS_PLUGIN_HPP
#define LMS_PLUGIN_HPP

#include <lms/plugin.h>

#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <utility>

namespace lms::sdk {

constexpr lms_str str(std::string_view s) { return {s.data(), s.size()}; }
constexpr std::string_view view(lms_str s) { return {s.data, s.len}; }

// Runs `body` and turns any exception into `on_exception`: nothing C++ may cross the C boundary.
template <typename Body, typename Result>
Result guard(Body&& body, Result on_exception) noexcept {
  try {
    return std::forward<Body>(body)();
  } catch (...) {
    return on_exception;
  }
}

template <typename Body>
void guard_void(Body&& body) noexcept {
  try {
    std::forward<Body>(body)();
  } catch (...) {
  }
}

// The shape of a blocking call that answers a status and a reason (probe, execute, ...): `body`
// takes a std::string* for the reason and returns an LMS_* status; a reason for a status other
// than LMS_OK is copied into the caller's buffer (cut to `cap`), and an exception becomes
// LMS_ERR_INTERNAL.
template <typename Body>
uint32_t status_call(char* error, size_t cap, Body&& body) noexcept {
  auto report = [&](const char* reason) {
    if (cap > 0) std::snprintf(error, cap, "%s", reason);
  };
  try {
    std::string reason;
    const uint32_t status = std::forward<Body>(body)(&reason);
    if (status != LMS_OK) report(reason.c_str());
    return status;
  } catch (...) {
    report("out of memory");
    return LMS_ERR_INTERNAL;
  }
}

// For plugins that keep no state: a create that returns a non-NULL token, a destroy that frees
// nothing.
inline void* stateless_create(const lms_kv*, size_t) noexcept {
  static int token;
  return &token;
}
inline void stateless_destroy(void*) noexcept {}

// The entry logic every plugin shares: refuse a negotiation too small to read, otherwise answer
// with the descriptor. The host compares the ABI major and refuses a mismatch, naming both.
inline const lms_plugin_descriptor* answer(const lms_negotiation* negotiation,
                                           const lms_plugin_descriptor* descriptor) noexcept {
  if (negotiation == nullptr || negotiation->struct_size < sizeof(lms_negotiation)) return nullptr;
  return descriptor;
}

}  // namespace lms::sdk

#define LMS_DEFINE_PLUGIN(kind, name, version, functions)                                    \
  namespace {                                                                                \
  const lms_plugin_descriptor lms_plugin_descriptor_ = {                                     \
      sizeof(lms_plugin_descriptor), LMS_PLUGIN_ABI_MAJOR,     LMS_PLUGIN_ABI_MINOR, (kind), \
      ::lms::sdk::str(name),         ::lms::sdk::str(version), &(functions)};                \
  }                                                                                          \
  extern "C" LMS_PLUGIN_EXPORT const lms_plugin_descriptor* lms_plugin_entry(                \
      const lms_negotiation* negotiation) {                                                  \
    return ::lms::sdk::answer(negotiation, &lms_plugin_descriptor_);                         \
  }

#endif  // LMS_PLUGIN_HPP
