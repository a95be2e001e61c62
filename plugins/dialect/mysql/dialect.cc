// The `mysql` dialect's function table: MySQL's client/server protocol (protocol 10, 4.1 packets)
// for clients and for the source database.
#include <lms/plugin.hpp>

#include <cstdio>
#include <map>
#include <string>

#include "back_handshake.h"
#include "connection_string.h"
#include "errors.h"
#include "execute.h"
#include "framing.h"
#include "front_handshake.h"
#include "held_state.h"
#include "normalize.h"
#include "summary.h"
#include "translate.h"
#include "wire.h"

// Every function is called from C through the table: none lets an exception out.
namespace lms::mysql {
namespace {

void copy_error(char* error, size_t cap, const std::string& message) {
  if (cap > 0) std::snprintf(error, cap, "%s", message.c_str());
}

std::map<std::string, std::string> to_map(const lms_kv* params, size_t count) {
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < count; ++i) {
    out.emplace(std::string(params[i].key.data, params[i].key.len),
                std::string(params[i].value.data, params[i].value.len));
  }
  return out;
}

uint32_t parse_connection_string_c(const char* text, size_t len, void* ctx,
                                   void (*on_param)(void*, lms_str, lms_str), char* error, size_t error_cap) {
  try {
    const std::string reason =
        parse_connection_string({text, len}, [&](std::string_view k, std::string_view v) {
          on_param(ctx, {k.data(), k.size()}, {v.data(), v.size()});
        });
    if (reason.empty()) return LMS_OK;
    copy_error(error, error_cap, reason);
    return LMS_ERR_INVALID;
  } catch (...) {
    copy_error(error, error_cap, "out of memory");
    return LMS_ERR_INTERNAL;
  }
}

void frame_c(uint32_t direction, const uint8_t* data, size_t len, lms_frame* out) {
  if (direction != LMS_FROM_CLIENT) {
    out->result = LMS_FRAME_INVALID;
    out->error = "a MySQL server's packets can only be delimited by a framer";
    return;
  }
  frame_client_packet(data, len, out);
}

void* front_create_c(const lms_kv* settings, size_t count) {
  return sdk::guard([&]() -> void* { return new FrontHandshake(settings, count); },
                    static_cast<void*>(nullptr));
}

uint32_t front_change_user_c(void* front, const lms_kv* session_params, size_t count, const uint8_t* message,
                             size_t len, const lms_emitter* out, lms_front_result* result) {
  try {
    return static_cast<FrontHandshake*>(front)->change_user(session_params, count, message, len, out, result);
  } catch (...) {  // std::stoul on a malformed setting, or out of memory
    result->error = "COM_CHANGE_USER could not be read";
    return LMS_HS_FAILED;
  }
}

uint32_t front_step_c(void* front, const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                      lms_front_result* result) {
  try {
    return static_cast<FrontHandshake*>(front)->step(data, len, consumed, out, result);
  } catch (...) {
    result->error = "out of memory during the client handshake";
    return LMS_HS_FAILED;
  }
}

void front_finish_c(void* front, const uint8_t*, size_t, const uint8_t*, size_t, const lms_emitter* out) {
  sdk::guard_void([&] { static_cast<FrontHandshake*>(front)->finish(out); });
}

void front_destroy_c(void* front) { delete static_cast<FrontHandshake*>(front); }

void front_error_c(void* front, const lms_error* error, const lms_emitter* out) {
  sdk::guard_void([&] { static_cast<FrontHandshake*>(front)->error(*error, out); });
}

void* back_create_c(const lms_kv* params, size_t count) {
  return sdk::guard([&]() -> void* { return new BackHandshake(params, count); }, static_cast<void*>(nullptr));
}

void back_start_c(void* back, const lms_emitter* out) { static_cast<BackHandshake*>(back)->start(out); }

uint32_t back_step_c(void* back, const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                     lms_back_result* result) {
  try {
    return static_cast<BackHandshake*>(back)->step(data, len, consumed, out, result);
  } catch (...) {
    result->error = "out of memory during the database handshake";
    result->error_code = "";
    return LMS_HS_FAILED;
  }
}

void back_destroy_c(void* back) { delete static_cast<BackHandshake*>(back); }

// After the login, an error answers the client's command: its sequence id is 1.
void encode_error_c(const lms_error* error, const lms_emitter* out) {
  sdk::guard_void([&] {
    const MysqlError mapped = map_error({error->code.data, error->code.len});
    const std::string packet =
        err_packet(mapped.code, mapped.sqlstate, {error->message.data, error->message.len}, 1);
    out->emit(out->ctx, reinterpret_cast<const uint8_t*>(packet.data()), packet.size());
  });
}

// MySQL cancels with KILL QUERY over a logged-in connection, which a bare packet cannot do.
void encode_cancel_c(const uint8_t*, size_t, const lms_emitter*) {}

void encode_terminate_c(const lms_emitter* out) {
  static constexpr uint8_t kQuit[] = {1, 0, 0, 0, kComQuit};
  out->emit(out->ctx, kQuit, sizeof kQuit);
}

uint32_t probe_c(const lms_kv* params, size_t count, uint32_t timeout_ms, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return probe(to_map(params, count), timeout_ms, reason);
  });
}

uint32_t execute_c(const lms_kv* params, size_t count, const char* sql, size_t sql_len, uint32_t timeout_ms,
                   uint64_t* rows, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return execute(to_map(params, count), std::string(sql, sql_len), timeout_ms, rows, reason);
  });
}

uint32_t open_transactions_c(const lms_kv* params, size_t count, uint64_t min_age_ms, uint32_t timeout_ms,
                             const lms_transaction_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return open_transactions(to_map(params, count), min_age_ms, timeout_ms, *out, reason);
  });
}

uint32_t replication_position_c(const lms_kv* params, size_t count, uint32_t timeout_ms,
                                const lms_replication_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return replication_position(to_map(params, count), timeout_ms, *out, reason);
  });
}

uint32_t list_logins_c(const lms_kv* params, size_t count, const char* query, size_t query_len,
                       uint32_t timeout_ms, const lms_login_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return list_logins(to_map(params, count), std::string(query != nullptr ? query : "", query_len),
                       timeout_ms, *out, reason);
  });
}

uint32_t rows_written_c(const lms_kv* params, size_t count, uint32_t timeout_ms, uint64_t* rows, char* error,
                        size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return rows_written(to_map(params, count), timeout_ms, rows, reason);
  });
}

uint32_t fence_c(const lms_kv* params, size_t count, uint8_t on, uint32_t timeout_ms, char* error,
                 size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return fence(to_map(params, count), on != 0, timeout_ms, reason);
  });
}

// What `connections list` shows: a command's SQL, an error's message.
void inspect_c(uint32_t direction, const uint8_t* message, size_t len, lms_message_detail* out) {
  out->effect = LMS_EFFECT_NONE;
  out->name = {nullptr, 0};
  out->text = {nullptr, 0};
  if (len < kHeaderSize + 1) return;
  const uint8_t* payload = message + kHeaderSize;
  const size_t payload_len = len - kHeaderSize;
  // A statement's name is its id as the protocol carries it: four bytes, little-endian.
  auto name_at = [&](size_t at) { out->name = {reinterpret_cast<const char*>(payload + at), 4}; };
  if (direction == LMS_FROM_CLIENT) {
    switch (payload[0]) {
      case kComQuery: {
        out->text = {reinterpret_cast<const char*>(payload + 1), payload_len - 1};
        std::string_view kind;
        out->effect = classify_held({out->text.data, out->text.len}, &kind);
        out->name = {kind.data(), kind.size()};
        break;
      }
      case kComStmtPrepare:
        // Named by the server's answer (LMS_FRAME_FLAG_PREPARED).
        out->effect = LMS_EFFECT_PREPARE;
        out->text = {reinterpret_cast<const char*>(payload + 1), payload_len - 1};
        break;
      case kComStmtClose:
        if (payload_len >= 5) {
          out->effect = LMS_EFFECT_DEALLOCATE;
          name_at(1);
        }
        break;
      case kComStmtExecute:
        if (payload_len >= 5) {
          out->effect = LMS_EFFECT_BIND;
          name_at(1);
        }
        break;
      case kComResetConnection:
        out->effect = LMS_EFFECT_DISCARD_ALL;
        break;
      default:
        break;
    }
    return;
  }
  if (payload[0] == 0x00 && payload_len == 12) {
    // COM_STMT_PREPARE_OK (the core asks only of a message framed LMS_FRAME_FLAG_PREPARED).
    out->effect = LMS_EFFECT_PREPARE;
    name_at(1);
    return;
  }
  if (payload[0] == 0xFF && payload_len >= 3) {
    size_t at = 3;
    if (payload_len >= 9 && payload[3] == '#') at = 9;
    out->effect = LMS_EFFECT_ERROR;
    out->text = {reinterpret_cast<const char*>(payload + at), payload_len - at};
  }
}

// A replayed command is sent as the client sent it; the server answers each with one READY.
void encode_request_c(const uint8_t* messages, size_t len, const lms_emitter* out) {
  out->emit(out->ctx, messages, len);
}

void normalize_c(const char* sql, size_t len, const lms_emitter* out) {
  sdk::guard_void([&] {
    const std::string normalized = normalize_sql({sql, len});
    out->emit(out->ctx, reinterpret_cast<const uint8_t*>(normalized.data()), normalized.size());
  });
}

void* framer_create_c(const lms_kv* params, size_t count) {
  return sdk::guard(
      [&]() -> void* {
        uint32_t capabilities = offered_capabilities();
        for (size_t i = 0; i < count; ++i) {
          if (std::string_view(params[i].key.data, params[i].key.len) == "capabilities") {
            capabilities =
                static_cast<uint32_t>(std::stoul(std::string(params[i].value.data, params[i].value.len)));
          }
        }
        return new Framer(capabilities);
      },
      static_cast<void*>(nullptr));
}

void framer_next_c(void* framer, uint32_t direction, const uint8_t* data, size_t len, lms_frame* out) {
  static_cast<Framer*>(framer)->next(static_cast<lms_direction>(direction), data, len, out);
}

void framer_destroy_c(void* framer) { delete static_cast<Framer*>(framer); }

void* summary_create_c(const lms_str* ignored, size_t count) {
  return sdk::guard([&]() -> void* { return new ResultSummarizer(ignored, count); },
                    static_cast<void*>(nullptr));
}

void summary_feed_c(void* summary, const uint8_t* data, size_t len) {
  sdk::guard_void([&] { static_cast<ResultSummarizer*>(summary)->feed(data, len); });
}

void summary_get_c(void* summary, lms_result_summary* out) {
  sdk::guard_void([&] { static_cast<ResultSummarizer*>(summary)->get(out); });
}

void summary_reset_c(void* summary) { static_cast<ResultSummarizer*>(summary)->reset(); }

void summary_destroy_c(void* summary) { delete static_cast<ResultSummarizer*>(summary); }

void* translator_create_c(const lms_kv* params, size_t count, const lms_kv* statements,
                          size_t statement_count) {
  return sdk::guard([&]() -> void* { return new Translator(params, count, statements, statement_count); },
                    static_cast<void*>(nullptr));
}

void translator_feed_c(void* translator, const uint8_t* data, size_t len) {
  sdk::guard_void([&] { static_cast<Translator*>(translator)->feed(data, len); });
}

uint32_t translator_next_c(void* translator, lms_request* out) {
  try {
    return static_cast<Translator*>(translator)->next(out);
  } catch (...) {
    out->kind = LMS_REQ_INVALID;
    out->text = {"out of memory", 13};
    return LMS_FRAME_INVALID;
  }
}

void translator_answer_c(void* translator, const lms_answer* answer, const lms_emitter* out) {
  sdk::guard_void([&] { static_cast<Translator*>(translator)->answer(*answer, out); });
}

void translator_destroy_c(void* translator) { delete static_cast<Translator*>(translator); }

void translator_learn_c(void* translator, lms_str name, const uint8_t* messages, size_t len) {
  sdk::guard_void([&] {
    static_cast<Translator*>(translator)
        ->learn({name.data, name.len}, {reinterpret_cast<const char*>(messages), len});
  });
}

}  // namespace

lms_dialect_functions make_dialect_functions() {
  lms_dialect_functions f{};
  f.struct_size = sizeof f;
  f.default_port = 3306;
  f.cancel_key_len = 4;
  f.parse_connection_string = parse_connection_string_c;
  f.frame = frame_c;
  f.front_create = front_create_c;
  f.front_step = front_step_c;
  f.front_finish = front_finish_c;
  f.front_destroy = front_destroy_c;
  f.back_create = back_create_c;
  f.back_start = back_start_c;
  f.back_step = back_step_c;
  f.back_destroy = back_destroy_c;
  f.encode_error = encode_error_c;
  f.encode_cancel = encode_cancel_c;
  f.encode_terminate = encode_terminate_c;
  f.probe = probe_c;
  f.inspect = inspect_c;
  f.encode_request = encode_request_c;
  f.execute = execute_c;
  f.open_transactions = open_transactions_c;
  f.rows_written = rows_written_c;
  f.replication_position = replication_position_c;
  f.list_logins = list_logins_c;
  f.front_change_user = front_change_user_c;
  f.fence = fence_c;
  f.summary_create = summary_create_c;
  f.summary_feed = summary_feed_c;
  f.summary_get = summary_get_c;
  f.summary_reset = summary_reset_c;
  f.summary_destroy = summary_destroy_c;
  f.normalize = normalize_c;
  f.framer_create = framer_create_c;
  f.framer_next = framer_next_c;
  f.framer_destroy = framer_destroy_c;
  f.front_error = front_error_c;
  f.translator_create = translator_create_c;
  f.translator_feed = translator_feed_c;
  f.translator_next = translator_next_c;
  f.translator_answer = translator_answer_c;
  f.translator_destroy = translator_destroy_c;
  f.translator_learn = translator_learn_c;
  return f;
}

}  // namespace lms::mysql

namespace {
const lms_dialect_functions kFunctions = lms::mysql::make_dialect_functions();
}

LMS_DEFINE_PLUGIN(LMS_PLUGIN_DIALECT, "mysql", LMS_VERSION, kFunctions)
