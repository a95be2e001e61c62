// The database's side of a translation (ABI 1.5): requests in the neutral model become PostgreSQL
// v3 messages, and the server's answers become neutral events, for clients that speak another
// protocol (MySQL clients of a CockroachDB target).
#pragma once

#include <lms/plugin.h>
#include <lms/stream.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lms::pgwire {

// How a client's "use this database" is said: CockroachDB switches databases within a session;
// PostgreSQL cannot, and its closest match for a MySQL database is a schema.
enum class UseDatabase { kSearchPath, kSetDatabase };

// Emits the messages for one request; see lms_request_kind for what answers each.
std::vector<uint8_t> encode_translated(const lms_request& request, UseDatabase use);

// `text` with its one-byte parameter markers replaced by $1, $2, ...
std::string numbered_placeholders(std::string_view text, const size_t* offsets, size_t count);

// Turns a server's message stream into neutral answer events.
class AnswerDecoder {
 public:
  void feed(const uint8_t* data, size_t len);
  // LMS_FRAME_COMPLETE with `out` set, LMS_FRAME_NEED_MORE, or LMS_FRAME_INVALID (out->message).
  uint32_t next(lms_answer* out);

 private:
  bool decode(char type, const uint8_t* body, size_t len, lms_answer* out);
  bool columns(const uint8_t* body, size_t len, lms_answer* out);
  bool params(const uint8_t* body, size_t len, lms_answer* out);
  bool row(const uint8_t* body, size_t len, lms_answer* out);
  void complete(std::string_view tag, lms_answer* out);

  sdk::InputBuffer in_;
  bool in_result_ = false;              // a RowDescription came and its CommandComplete has not
  std::vector<uint32_t> column_types_;  // of the current result set, for converting values
  std::vector<lms_field> fields_;
  std::vector<std::string> type_names_;
  std::vector<lms_value> values_;
  std::vector<std::string> converted_;  // values whose text form differs from the server's
  std::string error_code_;
  std::string error_message_;
  const char* broken_ = nullptr;
};

// The neutral type of a PostgreSQL type OID.
uint32_t neutral_type(uint32_t oid);

}  // namespace lms::pgwire
