#include "framing.h"

#include "wire.h"

namespace lms::mysql {
namespace {

// Enough of a payload to classify any packet: an OK packet's header byte, two length-encoded
// integers (up to 9 bytes each) and the status flags; COM_STMT_PREPARE_OK's 12 bytes.
constexpr size_t kClassifyBytes = 24;
// Statements whose parameter count the framer keeps (MariaDB's max_prepared_stmt_count default).
constexpr size_t kMaxTrackedStatements = 16382;
// COM_STMT_EXECUTE's cursor types (READ_ONLY, FOR_UPDATE, SCROLLABLE); the flags' higher bits
// are MariaDB's parameter-count and bulk flags.
constexpr uint8_t kCursorTypeMask = 0x07;

void need(lms_frame* out, size_t bytes) {
  out->result = LMS_FRAME_NEED_MORE;
  out->length = bytes;
}

void invalid(lms_frame* out, const char* why) {
  out->result = LMS_FRAME_INVALID;
  out->error = why;
}

void complete(lms_frame* out, uint32_t payload_len, uint32_t msg_class) {
  out->result = LMS_FRAME_COMPLETE;
  out->length = kHeaderSize + payload_len;
  out->msg_class = msg_class;
}

// Commands lms refuses: they would turn the connection into a replication stream, or only the
// server itself sends them.
const char* refused(uint8_t command) {
  switch (command) {
    case kComBinlogDump:
    case kComBinlogDumpGtid:
    case kComRegisterSlave:
    case kComTableDump:
      return "lms does not carry replication connections";
    case kComConnect:
    case kComConnectOut:
    case kComDaemon:
    case kComDelayedInsert:
    case kComSleep:
    case kComTime:
      return "the client sent a command only the server itself uses";
    default:
      return nullptr;
  }
}

// What a client's command is to the core: leaving, unanswered, or a request with an answer.
uint32_t client_class(uint8_t command) {
  switch (command) {
    case kComQuit:
      return LMS_MSG_TERMINATE;
    case kComStmtClose:
    case kComStmtSendLongData:
      return LMS_MSG_NO_ANSWER;
    case kComChangeUser:
      return LMS_MSG_CHANGE_USER;  // a login again: the core's and the front's, not the database's
    default:
      return LMS_MSG_QUERY;
  }
}

}  // namespace

void frame_client_packet(const uint8_t* data, size_t len, lms_frame* out) {
  if (len < kHeaderSize + 1) return need(out, kHeaderSize + 1);
  const uint32_t payload_len = read_u24(data);
  if (payload_len == 0) return invalid(out, "an empty packet from the client");
  if (payload_len == kMaxPayload) return invalid(out, "a message of 16 MB or more needs the framer");
  if (const char* why = refused(data[kHeaderSize])) return invalid(out, why);
  complete(out, payload_len, client_class(data[kHeaderSize]));
}

Framer::Framer(uint32_t capabilities) : deprecate_eof_((capabilities & kDeprecateEof) != 0) {}

void Framer::next(lms_direction direction, const uint8_t* data, size_t len, lms_frame* out) {
  out->error = nullptr;
  out->txn_state = in_transaction_ ? LMS_TXN_IN_TRANSACTION : LMS_TXN_IDLE;
  out->flags = 0;
  if (len < kHeaderSize) return need(out, kHeaderSize);
  const uint32_t payload_len = read_u24(data);
  if (direction == LMS_FROM_CLIENT) return client(data, len, payload_len, out);
  return server(data, len, payload_len, out);
}

void Framer::client(const uint8_t* data, size_t len, uint32_t payload_len, lms_frame* out) {
  if (client_continues_) {
    // The rest of a message of 16 MB or more: its last packet completes the command.
    client_continues_ = payload_len == kMaxPayload;
    if (client_continues_) return complete(out, payload_len, LMS_MSG_EXTENDED);
  } else {
    if (payload_len == 0) return invalid(out, "an empty packet from the client");
    if (len < kHeaderSize + 1) return need(out, kHeaderSize + 1);
    continued_command_ = data[kHeaderSize];
    if (const char* why = refused(continued_command_)) return invalid(out, why);
    if (continued_command_ == kComStmtExecute) {
      // The flags byte after the statement id: a cursor type other than CURSOR_TYPE_NO_CURSOR.
      if (payload_len >= 6 && len < kHeaderSize + 6) return need(out, kHeaderSize + 6);
      execute_asks_cursor_ = payload_len >= 6 && (data[kHeaderSize + 5] & kCursorTypeMask) != 0;
    }
    if (payload_len == kMaxPayload) {
      client_continues_ = true;
      return complete(out, payload_len, LMS_MSG_EXTENDED);
    }
  }
  const uint8_t command = continued_command_;
  if (command == kComStmtClose && payload_len >= 5) {
    if (len < kHeaderSize + 5) return need(out, kHeaderSize + 5);
    statement_params_.erase(read_u32(data + kHeaderSize + 1));
  }
  if (command == kComResetConnection) statement_params_.clear();
  if (command == kComStmtExecute && !client_continues_ && payload_len >= 10) {
    // id(4) flags(1) iterations(4), then a null bitmap and the new-params-bound flag.
    if (len < kHeaderSize + 5) return need(out, kHeaderSize + 5);
    const auto it = statement_params_.find(read_u32(data + kHeaderSize + 1));
    if (it != statement_params_.end() && it->second > 0) {
      const size_t bound_at = kHeaderSize + 10 + (it->second + 7u) / 8;
      if (bound_at < kHeaderSize + payload_len && bound_at < 32) {
        if (len <= bound_at) return need(out, bound_at + 1);
        if (data[bound_at] == 1) out->flags |= LMS_FRAME_FLAG_TYPES;
      }
    }
  }
  if (client_class(command) != LMS_MSG_QUERY) return complete(out, payload_len, client_class(command));
  switch (command) {
    case kComQuery:
    case kComProcessInfo:  // answered with the process list as a result set
      expected_.push_back(Answer::kQuery);
      break;
    case kComStmtBulkExecute:  // MariaDB's array binding: answered as an execute is
      expected_.push_back(Answer::kExecute);
      break;
    case kComStmtExecute:
      expected_.push_back(execute_asks_cursor_ ? Answer::kExecuteCursor : Answer::kExecute);
      break;
    case kComStmtFetch:
      expected_.push_back(Answer::kFetch);
      break;
    case kComStmtPrepare:
      expected_.push_back(Answer::kPrepare);
      break;
    case kComFieldList:
      expected_.push_back(Answer::kFieldList);
      break;
    case kComStatistics:
      expected_.push_back(Answer::kStatistics);
      break;
    default:
      expected_.push_back(Answer::kGeneric);  // OK, EOF or ERR
      break;
  }
  if (expected_.size() == 1) stage_ = Stage::kFirst;
  complete(out, payload_len, LMS_MSG_QUERY);
}

bool Framer::read_status(const uint8_t* payload, size_t len, bool eof_layout, uint16_t* status) const {
  Reader r(payload, len);
  r.skip(1);  // 0x00 or 0xFE
  if (eof_layout) {
    uint32_t warnings = 0;
    uint32_t flags = 0;
    if (!r.u16(warnings) || !r.u16(flags)) return false;
    *status = static_cast<uint16_t>(flags);
    return true;
  }
  uint64_t affected = 0;
  uint64_t insert_id = 0;
  uint32_t flags = 0;
  if (!r.lenenc(affected) || !r.lenenc(insert_id) || !r.u16(flags)) return false;
  *status = static_cast<uint16_t>(flags);
  return true;
}

void Framer::finish_answer(lms_frame* out, bool failed) {
  expected_.pop_front();
  stage_ = Stage::kFirst;
  out->msg_class = LMS_MSG_READY;
  out->txn_state = in_transaction_ ? LMS_TXN_IN_TRANSACTION : LMS_TXN_IDLE;
  if (failed) out->flags |= LMS_FRAME_FLAG_ERROR;
}

void Framer::server(const uint8_t* data, size_t len, uint32_t payload_len, lms_frame* out) {
  if (server_continues_) {
    // The rest of a row of 16 MB or more.
    server_continues_ = payload_len == kMaxPayload;
    return complete(out, payload_len, LMS_MSG_ROW);
  }
  if (payload_len == 0) return invalid(out, "an empty packet from the server");
  const size_t wanted = kHeaderSize + (payload_len < kClassifyBytes ? payload_len : kClassifyBytes);
  if (len < wanted) return need(out, wanted);
  const uint8_t* payload = data + kHeaderSize;
  const size_t visible = wanted - kHeaderSize;
  const uint8_t first = payload[0];
  if (expected_.empty()) {
    // Nothing asked: only an error may come (the server ending the connection).
    if (first == 0xFF) return complete(out, payload_len, LMS_MSG_ERROR);
    return invalid(out, "the server sent a packet no command asked for");
  }
  const Answer answer = expected_.front();
  // ERR ends any answer, wherever it comes.
  if (first == 0xFF && payload_len < kMaxPayload) {
    complete(out, payload_len, LMS_MSG_READY);
    finish_answer(out, true);
    return;
  }
  // An OK or EOF packet: 0xFE short of a row's length, or 0x00 where a row cannot be.
  const bool end_marker = first == 0xFE && payload_len < (deprecate_eof_ ? kMaxPayload : 9u);
  auto ends_with_status = [&](bool eof_layout) {
    uint16_t status = 0;
    if (!read_status(payload, visible, eof_layout, &status)) {
      invalid(out, "a malformed OK or EOF packet from the server");
      return false;
    }
    in_transaction_ = (status & kStatusInTrans) != 0;
    complete(out, payload_len, LMS_MSG_COMPLETE);
    if (status & kStatusMoreResults) {
      stage_ = Stage::kFirst;  // another result of the same command follows
    } else {
      finish_answer(out, false);
    }
    return true;
  };

  switch (stage_) {
    case Stage::kFirst: {
      if (answer == Answer::kStatistics) {
        complete(out, payload_len, LMS_MSG_READY);
        return finish_answer(out, false);
      }
      if (answer == Answer::kFieldList) {
        if (end_marker) {
          ends_with_status(!deprecate_eof_);
          return;
        }
        return complete(out, payload_len, LMS_MSG_OTHER);  // a column definition
      }
      if (answer == Answer::kFetch) {
        stage_ = Stage::kRows;
        return server(data, len, payload_len, out);
      }
      if (first == 0x00 || (answer == Answer::kGeneric && first == 0xFE)) {
        if (answer == Answer::kPrepare) {
          // COM_STMT_PREPARE_OK: id, columns, parameters.
          Reader r(payload, visible);
          uint32_t id = 0;
          uint32_t columns = 0;
          uint32_t params = 0;
          if (!r.skip(1) || !r.u32(id) || !r.u16(columns) || !r.u16(params)) {
            return invalid(out, "a malformed COM_STMT_PREPARE answer from the server");
          }
          complete(out, payload_len, LMS_MSG_OTHER);
          out->flags |= LMS_FRAME_FLAG_PREPARED;  // it names the statement: inspect reads the id
          if (statement_params_.size() < kMaxTrackedStatements)
            statement_params_[id] = static_cast<uint16_t>(params);
          prepare_columns_ = columns;
          if (params > 0) {
            stage_ = Stage::kPrepareParams;
            left_ = params;
          } else if (columns > 0) {
            stage_ = Stage::kPrepareColumns;
            left_ = columns;
          } else {
            finish_answer(out, false);
          }
          return;
        }
        ends_with_status(first == 0xFE && !deprecate_eof_);
        return;
      }
      if (answer == Answer::kGeneric) return invalid(out, "an unexpected answer from the server");
      if (first == 0xFB)
        return invalid(out, "the server asked for a local file (LOAD DATA LOCAL is not supported)");
      // A result set: its column count.
      Reader r(payload, visible);
      uint64_t columns = 0;
      if (!r.lenenc(columns) || columns == 0) return invalid(out, "a malformed result set from the server");
      stage_ = Stage::kColumns;
      left_ = columns;
      return complete(out, payload_len, LMS_MSG_OTHER);
    }
    case Stage::kColumns:
      complete(out, payload_len, LMS_MSG_OTHER);
      if (--left_ == 0) stage_ = deprecate_eof_ ? Stage::kRows : Stage::kColumnsEof;
      return;
    case Stage::kColumnsEof: {
      if (!end_marker) return invalid(out, "expected the EOF after a result set's columns");
      uint16_t status = 0;
      if (!read_status(payload, visible, true, &status))
        return invalid(out, "a malformed EOF from the server");
      in_transaction_ = (status & kStatusInTrans) != 0;
      complete(out, payload_len, LMS_MSG_OTHER);
      // A cursor was opened for a COM_STMT_EXECUTE that asked for one: the rows come with
      // COM_STMT_FETCH. The same flag on any other result set only says that a cursor is open
      // somewhere in the session (a stored procedure's DECLARE ... OPEN): its rows follow here.
      if (answer == Answer::kExecuteCursor && (status & kStatusCursorExists) &&
          !(status & kStatusMoreResults))
        return finish_answer(out, false);
      stage_ = Stage::kRows;
      return;
    }
    case Stage::kRows:
      if (end_marker) {
        ends_with_status(!deprecate_eof_);
        return;
      }
      server_continues_ = payload_len == kMaxPayload;
      return complete(out, payload_len, LMS_MSG_ROW);
    case Stage::kPrepareParams:
    case Stage::kPrepareColumns: {
      complete(out, payload_len, LMS_MSG_OTHER);
      if (--left_ > 0) return;
      const bool params = stage_ == Stage::kPrepareParams;
      if (!deprecate_eof_) {
        stage_ = params ? Stage::kPrepareParamsEof : Stage::kPrepareColumnsEof;
      } else if (params && prepare_columns_ > 0) {
        stage_ = Stage::kPrepareColumns;
        left_ = prepare_columns_;
      } else {
        finish_answer(out, false);
      }
      return;
    }
    case Stage::kPrepareParamsEof:
    case Stage::kPrepareColumnsEof:
      if (!end_marker) return invalid(out, "expected an EOF in a COM_STMT_PREPARE answer");
      complete(out, payload_len, LMS_MSG_OTHER);
      if (stage_ == Stage::kPrepareParamsEof && prepare_columns_ > 0) {
        stage_ = Stage::kPrepareColumns;
        left_ = prepare_columns_;
      } else {
        finish_answer(out, false);
      }
      return;
  }
}

}  // namespace lms::mysql
