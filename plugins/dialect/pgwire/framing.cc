#include "framing.h"

#include <array>

#include "wire.h"

namespace lms::pgwire {
namespace {

// What each message type byte means, by direction. A type absent from a table is a protocol
// violation for that direction (the PostgreSQL server closes the connection on those too).
struct TypeTable {
  std::array<int16_t, 256> cls;
  constexpr TypeTable() : cls{} {
    for (auto& c : cls) c = -1;
  }
};

constexpr TypeTable make_client_table() {
  TypeTable t;
  t.cls['Q'] = LMS_MSG_QUERY;
  t.cls['P'] = LMS_MSG_PREPARE;  // Parse
  t.cls['B'] = LMS_MSG_EXTENDED;  // Bind
  t.cls['D'] = LMS_MSG_EXTENDED;  // Describe
  t.cls['E'] = LMS_MSG_EXTENDED;  // Execute
  t.cls['C'] = LMS_MSG_CLOSE;
  t.cls['S'] = LMS_MSG_SYNC;
  t.cls['H'] = LMS_MSG_FLUSH;
  t.cls['X'] = LMS_MSG_TERMINATE;
  t.cls['d'] = LMS_MSG_COPY_DATA;
  t.cls['c'] = LMS_MSG_COPY_END;  // CopyDone
  t.cls['f'] = LMS_MSG_COPY_END;  // CopyFail
  t.cls['F'] = LMS_MSG_FUNCTION_CALL;
  t.cls['p'] = LMS_MSG_OTHER;  // password / SASL response, only during authentication
  return t;
}

constexpr TypeTable make_server_table() {
  TypeTable t;
  t.cls['Z'] = LMS_MSG_READY;
  t.cls['E'] = LMS_MSG_ERROR;
  t.cls['N'] = LMS_MSG_NOTICE;
  t.cls['A'] = LMS_MSG_NOTIFICATION;
  t.cls['S'] = LMS_MSG_PARAMETER_STATUS;
  t.cls['G'] = LMS_MSG_COPY_IN;
  t.cls['H'] = LMS_MSG_COPY_OUT;
  t.cls['W'] = LMS_MSG_COPY_OUT;  // CopyBothResponse (replication)
  t.cls['d'] = LMS_MSG_COPY_DATA;
  t.cls['c'] = LMS_MSG_OTHER;  // CopyDone
  t.cls['D'] = LMS_MSG_ROW;
  t.cls['C'] = LMS_MSG_COMPLETE;
  for (unsigned char c : {'T', 't', '1', '2', '3', 'n', 's', 'I', 'K', 'R', 'V', 'v'}) {
    t.cls[c] = LMS_MSG_OTHER;
  }
  return t;
}

constexpr TypeTable kClientTypes = make_client_table();
constexpr TypeTable kServerTypes = make_server_table();

void invalid(lms_frame* out, const char* why) {
  out->result = LMS_FRAME_INVALID;
  out->length = 0;
  out->error = why;
}

void need(lms_frame* out, uint64_t bytes) {
  out->result = LMS_FRAME_NEED_MORE;
  out->length = bytes;
}

}  // namespace

void frame_message(lms_direction direction, const uint8_t* data, size_t len, lms_frame* out) {
  out->msg_class = LMS_MSG_OTHER;
  out->txn_state = LMS_TXN_IDLE;
  out->error = nullptr;
  if (len < 5) return need(out, 5);

  const TypeTable& table = direction == LMS_FROM_CLIENT ? kClientTypes : kServerTypes;
  const int16_t cls = table.cls[data[0]];
  if (cls < 0) {
    return invalid(out, direction == LMS_FROM_CLIENT ? "unknown message type from the client"
                                                     : "unknown message type from the server");
  }
  const uint32_t body_and_length = read_u32(data + 1);
  if (body_and_length < 4) return invalid(out, "message length below 4");
  if (body_and_length > kMaxMessageLength) return invalid(out, "message length above 1 GiB");

  out->msg_class = static_cast<uint32_t>(cls);
  const uint64_t total = uint64_t{body_and_length} + 1;
  if (cls == LMS_MSG_READY) {
    // ReadyForQuery carries the transaction status, the one byte the core needs to see.
    if (total != 6) return invalid(out, "ReadyForQuery with a length other than 5");
    if (len < 6) return need(out, 6);
    switch (data[5]) {
      case 'I':
        out->txn_state = LMS_TXN_IDLE;
        break;
      case 'T':
        out->txn_state = LMS_TXN_IN_TRANSACTION;
        break;
      case 'E':
        out->txn_state = LMS_TXN_FAILED;
        break;
      default:
        return invalid(out, "ReadyForQuery with an unknown transaction status");
    }
  }
  out->result = LMS_FRAME_COMPLETE;
  out->length = total;
}

}  // namespace lms::pgwire
