#include "translate.h"

#include <algorithm>

#include "errors.h"

namespace lms::mysql {
namespace {

// A client message longer than this is refused as broken rather than buffered (MySQL's own
// max_allowed_packet tops out at 1 GB; its default is 16 MB).
constexpr size_t kMaxTranslatedMessage = 256u << 20;
// COM_STMT_EXECUTE flags asking for a cursor (read-only, for update, scrollable).
constexpr uint8_t kCursorFlags = 0x07;

lms_str str(std::string_view s) { return {s.data(), s.size()}; }

void clear(lms_request* out) {
  const uint32_t size = out->struct_size;
  *out = lms_request{};
  out->struct_size = size;
}

uint32_t read_id(std::string_view payload) {
  return read_u32(reinterpret_cast<const uint8_t*>(payload.data()) + 1);
}

}  // namespace

std::vector<size_t> parameter_markers(std::string_view sql) {
  std::vector<size_t> out;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`') {
      // A quoted string or identifier: a doubled quote, or a backslash in strings, escapes.
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '\\' && c != '`') {
          ++i;
        } else if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            ++i;
          } else {
            break;
          }
        }
      }
    } else if (c == '#' || (c == '-' && sql.substr(i, 3) == "-- ")) {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      const size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (c == '?') {
      out.push_back(i);
    }
  }
  return out;
}

Translator::Translator(const lms_kv* params, size_t param_count, const lms_kv* statements,
                       size_t statement_count) {
  capabilities_ = 0;
  for (size_t i = 0; i < param_count; ++i) {
    const std::string_view key(params[i].key.data, params[i].key.len);
    const std::string value(params[i].value.data, params[i].value.len);
    if (key == "capabilities") capabilities_ = static_cast<uint32_t>(std::stoul(value));
    if (key == "charset") charset_ = static_cast<uint16_t>(std::stoul(value));
  }
  deprecate_eof_ = (capabilities_ & kDeprecateEof) != 0;
  for (size_t i = 0; i < statement_count; ++i) {
    // Named as inspect names them: the statement id's four bytes, little-endian.
    if (statements[i].key.len != 4) continue;
    const uint32_t id = read_u32(reinterpret_cast<const uint8_t*>(statements[i].key.data));
    if (id != 0) register_statement(id, {statements[i].value.data, statements[i].value.len});
  }
}

void Translator::learn(std::string_view name, std::string_view messages) {
  if (name.size() != 4) return;
  const uint32_t id = read_u32(reinterpret_cast<const uint8_t*>(name.data()));
  if (id != 0) register_statement(id, messages);
}

void Translator::register_statement(uint32_t id, std::string_view messages) {
  // The COM_STMT_PREPARE, then maybe a COM_STMT_EXECUTE that bound the parameters' types.
  if (messages.size() < kHeaderSize + 1) return;
  const uint32_t prepare_len = read_u24(reinterpret_cast<const uint8_t*>(messages.data()));
  if (messages.size() < kHeaderSize + prepare_len ||
      messages[kHeaderSize] != static_cast<char>(kComStmtPrepare))
    return;
  Statement st;
  st.sql = std::string(messages.substr(kHeaderSize + 1, prepare_len - 1));
  st.markers = parameter_markers(st.sql);
  const std::string_view execute = messages.substr(kHeaderSize + prepare_len);
  if (execute.size() > kHeaderSize + 10 && execute[kHeaderSize] == static_cast<char>(kComStmtExecute)) {
    const size_t n = st.markers.size();
    Reader r(reinterpret_cast<const uint8_t*>(execute.data()) + kHeaderSize + 10,
             execute.size() - kHeaderSize - 10);
    uint8_t bound = 0;
    if (n > 0 && r.skip((n + 7) / 8) && r.u8(bound) && bound == 1) {
      for (size_t i = 0; i < n; ++i) {
        uint8_t type = 0;
        uint8_t flags = 0;
        if (!r.u8(type) || !r.u8(flags)) break;
        st.types.push_back({type, (flags & 0x80) != 0});
      }
      if (st.types.size() != n) st.types.clear();
    }
  }
  statements_[id] = std::move(st);
  if (id >= next_id_) next_id_ = id + 1;
}

void Translator::feed(const uint8_t* data, size_t len) { in_.append(data, len); }

uint32_t Translator::next(lms_request* out) {
  clear(out);
  // One command: its packets, up to one shorter than 16 MB - 1.
  const std::string_view unread = in_.unread();
  const auto* bytes = reinterpret_cast<const uint8_t*>(unread.data());
  size_t pos = 0;
  size_t total = 0;
  size_t packets = 0;
  while (true) {
    if (unread.size() - pos < kHeaderSize) return LMS_FRAME_NEED_MORE;
    const uint32_t len = read_u24(bytes + pos);
    total += len;
    if (total > kMaxTranslatedMessage)
      return invalid("the client sent a command too large to translate", out);
    if (unread.size() - pos - kHeaderSize < len) return LMS_FRAME_NEED_MORE;
    pos += kHeaderSize + len;
    ++packets;
    if (len < kMaxPayload) break;
  }
  std::string_view payload;
  if (packets == 1) {
    payload = unread.substr(kHeaderSize, total);
  } else {
    message_.clear();
    for (size_t p = 0; p < pos;) {
      const uint32_t len = read_u24(bytes + p);
      message_.append(unread.substr(p + kHeaderSize, len));
      p += kHeaderSize + len;
    }
    payload = message_;
  }
  in_.consume(pos);
  if (payload.empty()) return invalid("the client sent an empty packet", out);
  return command(payload, out);
}

void Translator::name_statement(uint32_t id, const Statement& st, uint32_t kind, lms_request* out) {
  // The database knows the statement by its id in decimal; its text defines it there.
  name_ = std::to_string(id);
  out->kind = kind;
  out->name = str(name_);
  out->text = str(st.sql);
  out->placeholders = st.markers.data();
  out->placeholder_count = st.markers.size();
}

uint32_t Translator::invalid(const char* why, lms_request* out) {
  out->kind = LMS_REQ_INVALID;
  out->text = str(why);
  return LMS_FRAME_INVALID;
}

uint32_t Translator::answer_locally(Mode mode, lms_request* out) {
  pending_.push_back({mode, 0, {}});
  out->kind = LMS_REQ_PING;
  return LMS_FRAME_COMPLETE;
}

uint32_t Translator::refuse(uint16_t code, std::string_view sqlstate, std::string_view message,
                            lms_request* out) {
  Writer w;
  w.u8(0xFF);
  w.u16(code);
  w.u8('#');
  w.bytes(sqlstate.substr(0, 5));
  w.bytes(message);
  pending_.push_back({Mode::kRefused, 0, std::move(w.str())});
  out->kind = LMS_REQ_PING;
  return LMS_FRAME_COMPLETE;
}

uint32_t Translator::command(std::string_view payload, lms_request* out) {
  const uint8_t command = static_cast<uint8_t>(payload[0]);
  const std::string_view body = payload.substr(1);
  switch (command) {
    case kComQuery:
      out->kind = LMS_REQ_QUERY;
      out->text = str(body);
      pending_.push_back({Mode::kText, 0, {}});
      return LMS_FRAME_COMPLETE;
    case kComInitDb:
      out->kind = LMS_REQ_USE;
      out->text = str(body);
      pending_.push_back({Mode::kText, 0, {}});
      return LMS_FRAME_COMPLETE;
    case kComResetConnection:
      // The database drops the session's statements, and so do the ids the client holds.
      statements_.clear();
      out->kind = LMS_REQ_RESET;
      pending_.push_back({Mode::kText, 0, {}});
      return LMS_FRAME_COMPLETE;
    case kComStmtPrepare: {
      const uint32_t id = next_id_++;
      Statement& st = statements_[id];
      st.sql = std::string(body);
      st.markers = parameter_markers(st.sql);
      name_statement(id, st, LMS_REQ_PREPARE, out);
      pending_.push_back({Mode::kPrepare, id, {}});
      return LMS_FRAME_COMPLETE;
    }
    case kComStmtExecute:
      return execute(payload, out);
    case kComStmtClose: {
      if (payload.size() < 5) return invalid("the client sent a malformed COM_STMT_CLOSE", out);
      const auto it = statements_.find(read_id(payload));
      if (it == statements_.end()) return LMS_FRAME_COMPLETE;  // nothing to drop, and no answer
      if (it->second.prepared_here) {
        name_ = std::to_string(it->first);
        out->kind = LMS_REQ_CLOSE;
        out->name = str(name_);
      }
      statements_.erase(it);
      return LMS_FRAME_COMPLETE;
    }
    case kComStmtSendLongData: {
      if (payload.size() < 7) return invalid("the client sent a malformed COM_STMT_SEND_LONG_DATA", out);
      const auto it = statements_.find(read_id(payload));
      const uint16_t param =
          static_cast<uint16_t>(read_u16(reinterpret_cast<const uint8_t*>(payload.data()) + 5));
      if (it != statements_.end()) it->second.long_data[param].append(payload.substr(7));
      return LMS_FRAME_COMPLETE;  // nothing answers it
    }
    case kComStmtReset: {
      if (payload.size() < 5) return invalid("the client sent a malformed COM_STMT_RESET", out);
      const auto it = statements_.find(read_id(payload));
      if (it == statements_.end()) {
        return refuse(1243, "HY000", "Unknown prepared statement handler given to mysqld_stmt_reset", out);
      }
      it->second.long_data.clear();
      return answer_locally(Mode::kOk, out);
    }
    case kComPing:
      return answer_locally(Mode::kOk, out);
    case kComSetOption:
      return answer_locally(Mode::kEof, out);
    case kComStatistics:
      return answer_locally(Mode::kStatistics, out);
    case kComQuit:
      out->kind = LMS_REQ_QUIT;
      return LMS_FRAME_COMPLETE;
    case kComFieldList:
    case kComStmtFetch:
    case kComProcessInfo:
    case kComProcessKill:
    case kComRefresh:
    case kComShutdown:
    case kComCreateDb:
    case kComDropDb:
    case kComDebug:
      return refuse(
          1235, "42000",
          "lms: this command is not available while MySQL clients are served by a database of another "
          "protocol",
          out);
    default:
      return refuse(1047, "08S01", "Unknown command", out);
  }
}

uint32_t Translator::execute(std::string_view payload, lms_request* out) {
  Reader r(reinterpret_cast<const uint8_t*>(payload.data()) + 1, payload.size() - 1);
  uint32_t id = 0;
  uint8_t flags = 0;
  uint32_t iterations = 0;
  if (!r.u32(id) || !r.u8(flags) || !r.u32(iterations))
    return invalid("the client sent a malformed COM_STMT_EXECUTE", out);
  const auto it = statements_.find(id);
  if (it == statements_.end()) {
    return refuse(
        1243, "HY000",
        "Unknown prepared statement handler (" + std::to_string(id) + ") given to mysqld_stmt_execute", out);
  }
  if (flags & kCursorFlags) {
    return refuse(1235, "42000",
                  "lms: cursors are not available while MySQL clients are served by a database of "
                  "another protocol",
                  out);
  }
  Statement& st = it->second;
  const size_t n = st.markers.size();
  values_.assign(n, lms_value{});
  texts_.resize(n);
  if (n > 0) {
    std::string_view bitmap;
    uint8_t bound = 0;
    if (!r.bytes((n + 7) / 8, bitmap) || !r.u8(bound))
      return invalid("the client sent a malformed COM_STMT_EXECUTE", out);
    if (bound == 1) {
      st.types.clear();
      for (size_t i = 0; i < n; ++i) {
        uint8_t type = 0;
        uint8_t type_flags = 0;
        if (!r.u8(type) || !r.u8(type_flags))
          return invalid("the client sent a malformed COM_STMT_EXECUTE", out);
        st.types.push_back({type, (type_flags & 0x80) != 0});
      }
    }
    if (st.types.size() != n) {
      return refuse(
          1210, "HY000",
          "lms: the statement's parameter types are unknown on this database; bind its parameters again",
          out);
    }
    for (size_t i = 0; i < n; ++i) {
      lms_value& v = values_[i];
      const bool null = (static_cast<uint8_t>(bitmap[i / 8]) >> (i % 8)) & 1;
      const auto long_data = st.long_data.find(static_cast<uint16_t>(i));
      if (null || st.types[i].type == kTypeNull) {
        v.is_null = 1;
        continue;
      }
      if (long_data != st.long_data.end()) {
        texts_[i] = long_data->second;
        const uint8_t t = st.types[i].type;
        v.type =
            (t >= kTypeTinyBlob && t <= kTypeBlob) || t == kTypeGeometry ? LMS_TYPE_BYTES : LMS_TYPE_TEXT;
      } else if (!read_param(r, st.types[i], &texts_[i], &v.type)) {
        return invalid("the client sent a malformed COM_STMT_EXECUTE parameter", out);
      }
      v.text = str(texts_[i]);
    }
  }
  st.long_data.clear();
  name_statement(id, st, LMS_REQ_EXECUTE, out);
  out->params = values_.data();
  out->param_count = values_.size();
  out->prepared = st.prepared_here ? 1 : 0;
  pending_.push_back({Mode::kBinary, id, {}});
  return LMS_FRAME_COMPLETE;
}

// ---- answers ------------------------------------------------------------------------------------

void Translator::emit(const lms_emitter* out, std::string_view payload) {
  // Packets are built in one buffer kept across calls: a row costs no allocation once warm.
  packets_.clear();
  sequence_ = append_packets(packets_, payload, sequence_);
  out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packets_.data()), packets_.size());
}

uint16_t Translator::status(bool more) const {
  uint16_t flags = kStatusAutocommit;
  if (txn_state_ != LMS_TXN_IDLE) flags |= kStatusInTrans;
  if (more) flags |= kStatusMoreResults;
  return flags;
}

void Translator::flush_end(const lms_emitter* out, bool more) {
  if (!end_) return;
  Writer w;
  if (end_->eof_layout && !deprecate_eof_) {
    w.u8(0xFE);
    w.u16(warnings_);
    w.u16(status(more));
  } else {
    w.u8(end_->eof_layout ? 0xFE : 0x00);
    w.lenenc(end_->affected);
    w.lenenc(0);  // last insert id: a PostgreSQL-protocol database does not say
    w.u16(status(more));
    w.u16(warnings_);
  }
  end_.reset();
  emit(out, w.str());
}

void Translator::answer(const lms_answer& a, const lms_emitter* out) {
  if (pending_.empty()) return;  // nothing of the client's is waiting for it
  // An ERR ends a MySQL answer: whatever the database says after its error, but its READY, is
  // not the client's to see.
  if (errored_ && a.kind != LMS_ANS_READY) return;
  Pending& p = pending_.front();
  const bool runs = p.mode == Mode::kText || p.mode == Mode::kBinary;
  switch (a.kind) {
    case LMS_ANS_NOTICE:
      ++warnings_;
      return;
    case LMS_ANS_COLUMNS: {
      if (p.mode == Mode::kPrepare) {
        prepare_columns_.clear();
        for (size_t i = 0; i < a.field_count; ++i) {
          uint8_t type = 0;
          prepare_columns_.push_back(column_definition(a.fields[i], charset_, &type));
        }
        return;
      }
      // MySQL has no result set without columns (PostgreSQL's "SELECT;"): it is a statement.
      if (!runs || a.field_count == 0) return;
      // A result set the database did not finish before the next began still ends first.
      if (in_result_) end_ = End{true, 0};
      flush_end(out, true);
      Writer count;
      count.lenenc(a.field_count);
      emit(out, count.str());
      column_types_.assign(a.field_count, 0);
      for (size_t i = 0; i < a.field_count; ++i)
        emit(out, column_definition(a.fields[i], charset_, &column_types_[i]));
      if (!deprecate_eof_) {
        Writer eof;
        eof.u8(0xFE);
        eof.u16(warnings_);
        eof.u16(status(false));
        emit(out, eof.str());
      }
      in_result_ = true;
      return;
    }
    case LMS_ANS_ROW: {
      if (!runs || !in_result_) return;
      // One value per column, whatever the database sent: missing ones are NULL.
      row_.assign(a.values, a.values + std::min(a.value_count, column_types_.size()));
      row_.resize(column_types_.size(), lms_value{{}, LMS_TYPE_OTHER, 1});
      std::string& payload = row_payload_.str();
      payload.clear();
      if (p.mode == Mode::kBinary) {
        append_binary_row(payload, column_types_, row_.data(), row_.size());
      } else {
        for (size_t i = 0; i < row_.size(); ++i) {
          if (row_[i].is_null) {
            row_payload_.u8(0xFB);
          } else {
            row_payload_.lenenc_string(text_value(row_[i]));
          }
        }
      }
      emit(out, payload);
      return;
    }
    case LMS_ANS_COMPLETE:
      if (!runs) return;
      flush_end(out, true);
      end_ = End{in_result_, in_result_ ? 0 : a.affected_rows};
      in_result_ = false;
      return;
    case LMS_ANS_ERROR: {
      if (p.mode == Mode::kOk || p.mode == Mode::kEof || p.mode == Mode::kStatistics ||
          p.mode == Mode::kRefused)
        return;
      flush_end(out, true);
      const MysqlError e = map_error({a.code.data, a.code.len});
      std::string packets = err_packet(e.code, e.sqlstate, {a.message.data, a.message.len}, sequence_);
      out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packets.data()), packets.size());
      errored_ = true;
      in_result_ = false;
      return;
    }
    case LMS_ANS_READY:
      txn_state_ = a.txn_state;
      finish(out);
      return;
    default:
      return;  // PARAMS: a statement's parameters are its markers, counted when it was prepared
  }
}

void Translator::finish(const lms_emitter* out) {
  const Pending p = std::move(pending_.front());
  pending_.pop_front();
  switch (p.mode) {
    case Mode::kOk:
    case Mode::kEof: {
      Writer w;
      if (p.mode == Mode::kEof && !deprecate_eof_) {
        w.u8(0xFE);
        w.u16(0);
        w.u16(status(false));
      } else {
        w.u8(p.mode == Mode::kEof ? 0xFE : 0x00);
        w.lenenc(0);
        w.lenenc(0);
        w.u16(status(false));
        w.u16(0);
      }
      emit(out, w.str());
      break;
    }
    case Mode::kStatistics:
      emit(out, "lms: statistics are the database's own; this session is translated");
      break;
    case Mode::kRefused:
      emit(out, p.refusal);
      break;
    case Mode::kPrepare: {
      const auto it = statements_.find(p.statement);
      if (errored_ || it == statements_.end()) {
        if (it != statements_.end()) statements_.erase(it);  // the client never learns its id
        break;
      }
      it->second.prepared_here = true;
      const size_t params = it->second.markers.size();
      Writer ok;
      ok.u8(0x00);
      ok.u32(p.statement);
      ok.u16(static_cast<uint32_t>(prepare_columns_.size()));
      ok.u16(static_cast<uint32_t>(params));
      ok.u8(0);
      ok.u16(warnings_);
      emit(out, ok.str());
      auto eof = [&] {
        if (deprecate_eof_) return;
        Writer w;
        w.u8(0xFE);
        w.u16(0);
        w.u16(status(false));
        emit(out, w.str());
      };
      if (params > 0) {
        // As MariaDB describes a parameter: "?", of no type until bound.
        const std::string definition = parameter_definition();
        for (size_t i = 0; i < params; ++i) emit(out, definition);
        eof();
      }
      if (!prepare_columns_.empty()) {
        for (const std::string& definition : prepare_columns_) emit(out, definition);
        eof();
      }
      break;
    }
    case Mode::kText:
    case Mode::kBinary:
      if (end_) {
        flush_end(out, false);
      } else if (!errored_) {
        end_ = End{false, 0};
        flush_end(out, false);
      }
      if (p.mode == Mode::kBinary && !errored_) {
        if (const auto it = statements_.find(p.statement); it != statements_.end())
          it->second.prepared_here = true;
      }
      break;
  }
  sequence_ = 1;
  errored_ = false;
  in_result_ = false;
  warnings_ = 0;
  end_.reset();
  column_types_.clear();
  prepare_columns_.clear();
}

}  // namespace lms::mysql
