// Collecting what a plugin emits into a string, for the places the core wants a dialect's bytes
// in hand rather than on a socket (an error to insert later, a replay, a normalized statement).
#pragma once

#include <lms/plugin.h>

#include <string>

namespace lms::core {

// An emitter appending to *out; *out must outlive every use of the emitter.
inline lms_emitter emit_into(std::string* out) {
  return {sizeof(lms_emitter), out, [](void* ctx, const uint8_t* data, size_t len) {
            static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(data), len);
          }};
}

// A statement as an operator may be shown it: `dialect`'s normalization (literals replaced by `?`,
// since a literal can be a password: ALTER ROLE ... PASSWORD '...'), or without a normalizer only
// its first word; at most `max_bytes`. Into *out, whose capacity is reused.
void shape_statement(const lms_dialect_functions* dialect, lms_str text, size_t max_bytes, std::string* out);

// An ERROR message for a client, in `dialect`'s protocol.
inline std::string encode_client_error(const lms_dialect_functions* dialect, const std::string& code,
                                       const std::string& message) {
  std::string out;
  const lms_emitter collect = emit_into(&out);
  const lms_error error{
      sizeof(lms_error), {"ERROR", 5}, {code.data(), code.size()}, {message.data(), message.size()}};
  dialect->encode_error(&error, &collect);
  return out;
}

}  // namespace lms::core
