#include "dialect.h"

#include <libpq-fe.h>
#include <lms/plugin.hpp>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "back_handshake.h"
#include "connection_string.h"
#include "errors.h"
#include "execute.h"
#include "framing.h"
#include "front_handshake.h"
#include "inspect.h"
#include "normalize.h"
#include "pooling.h"
#include "summary.h"
#include "translate.h"
#include "wire.h"

// Every function here is called from C through the descriptor, so none may let an exception out:
// each catches at the boundary and answers with a status.
namespace lms::pgwire {
namespace {

void copy_error(char* error, size_t cap, const std::string& message) {
  if (cap == 0) return;
  std::snprintf(error, cap, "%s", message.c_str());
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
  frame_message(static_cast<lms_direction>(direction), data, len, out);
}

void* front_create_c(const lms_kv* settings, size_t count) {
  return sdk::guard([&]() -> void* { return new FrontHandshake(settings, count); },
                    static_cast<void*>(nullptr));
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

void front_finish_c(void* front, const uint8_t* welcome, size_t welcome_len, const uint8_t* key,
                    size_t key_len, const lms_emitter* out) {
  sdk::guard_void(
      [&] { static_cast<FrontHandshake*>(front)->finish(welcome, welcome_len, key, key_len, out); });
}

void front_destroy_c(void* front) { delete static_cast<FrontHandshake*>(front); }

void* back_create_c(const lms_kv* params, size_t count) {
  return sdk::guard([&]() -> void* { return new BackHandshake(params, count); }, static_cast<void*>(nullptr));
}

void back_start_c(void* back, const lms_emitter* out) {
  sdk::guard_void([&] { static_cast<BackHandshake*>(back)->start(out); });
}

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

void encode_error_c(const lms_error* error, const lms_emitter* out) {
  sdk::guard_void([&] {
    const auto bytes =
        error_response(sdk::view(error->severity), sdk::view(error->code), sdk::view(error->message));
    out->emit(out->ctx, bytes.data(), bytes.size());
  });
}

void encode_cancel_c(const uint8_t* key, size_t key_len, const lms_emitter* out) {
  if (key_len != kCancelKeyLength) return;
  uint8_t packet[16];
  write_u32(packet, 16);
  write_u32(packet + 4, kCancelRequestCode);
  std::memcpy(packet + 8, key, kCancelKeyLength);
  out->emit(out->ctx, packet, sizeof packet);
}

void encode_terminate_c(const lms_emitter* out) {
  static constexpr uint8_t kTerminate[] = {'X', 0, 0, 0, 4};
  out->emit(out->ctx, kTerminate, sizeof kTerminate);
}

void encode_reset_c(const lms_emitter* out) {
  // A simple query: DISCARD ALL is refused inside a transaction block, which the core never
  // resets, and it drops everything a session can hold (settings, statements, portals, temporary
  // tables, advisory locks, LISTENs, cached plans).
  static constexpr char kSql[] = "DISCARD ALL";
  uint8_t message[1 + 4 + sizeof kSql];
  message[0] = 'Q';
  write_u32(message + 1, 4 + sizeof kSql);
  std::memcpy(message + 5, kSql, sizeof kSql);
  out->emit(out->ctx, message, sizeof message);
}

uint32_t probe_c(const lms_kv* params, size_t count, uint32_t timeout_ms, char* error, size_t error_cap) {
  try {
    // PQping reports whether a server accepts connections without needing to log in.
    std::vector<std::string> storage;
    storage.reserve(2 * count + 2);
    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (size_t i = 0; i < count; ++i) {
      const std::string_view key(params[i].key.data, params[i].key.len);
      if (key == "connect_timeout") continue;
      storage.emplace_back(key);
      keys.push_back(storage.back().c_str());
      storage.emplace_back(params[i].value.data, params[i].value.len);
      values.push_back(storage.back().c_str());
    }
    storage.emplace_back("connect_timeout");
    keys.push_back(storage.back().c_str());
    storage.emplace_back(std::to_string(timeout_ms < 2000 ? 2 : timeout_ms / 1000));
    values.push_back(storage.back().c_str());
    keys.push_back(nullptr);
    values.push_back(nullptr);
    switch (PQpingParams(keys.data(), values.data(), 0)) {
      case PQPING_OK:
        return LMS_OK;
      case PQPING_REJECT:
        copy_error(error, error_cap, "the database rejects connections");
        break;
      case PQPING_NO_RESPONSE:
        copy_error(error, error_cap, "the database does not answer");
        break;
      default:
        copy_error(error, error_cap, "the connection parameters are unusable");
        break;
    }
    return LMS_ERR_UNAVAILABLE;
  } catch (...) {
    copy_error(error, error_cap, "out of memory");
    return LMS_ERR_INTERNAL;
  }
}

void inspect_c(uint32_t direction, const uint8_t* message, size_t len, lms_message_detail* out) {
  inspect_message(static_cast<lms_direction>(direction), message, len, out);
}

void encode_request_c(const uint8_t* messages, size_t len, const lms_emitter* out) {
  out->emit(out->ctx, messages, len);
  // A simple query is answered by its own ReadyForQuery; anything else needs a Sync.
  if (len > 0 && messages[0] != 'Q') {
    static constexpr uint8_t kSync[] = {'S', 0, 0, 0, 4};
    out->emit(out->ctx, kSync, sizeof kSync);
  }
}

uint32_t execute_c(const lms_kv* params, size_t count, const char* sql, size_t sql_len, uint32_t timeout_ms,
                   uint64_t* rows, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return execute_statement(params, count, std::string(sql, sql_len), timeout_ms, rows, reason);
  });
}

uint32_t open_transactions_c(const lms_kv* params, size_t count, uint64_t min_age_ms, uint32_t timeout_ms,
                             const lms_transaction_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return open_transactions(params, count, min_age_ms, timeout_ms, *out, reason);
  });
}

uint32_t rows_written_c(const lms_kv* params, size_t count, uint32_t timeout_ms, uint64_t* rows, char* error,
                        size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return rows_written(params, count, timeout_ms, rows, reason);
  });
}

uint32_t replication_position_c(const lms_kv* params, size_t count, uint32_t timeout_ms,
                                const lms_replication_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return replication_position(params, count, timeout_ms, *out, reason);
  });
}

uint32_t list_logins_c(const lms_kv* params, size_t count, const char* query, size_t query_len,
                       uint32_t timeout_ms, const lms_login_sink* out, char* error, size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return list_logins(params, count, std::string(query != nullptr ? query : "", query_len), timeout_ms, *out,
                       reason);
  });
}

uint32_t fence_c(const lms_kv* params, size_t count, uint8_t on, uint32_t timeout_ms, char* error,
                 size_t error_cap) {
  return sdk::status_call(error, error_cap, [&](std::string* reason) {
    return fence(params, count, on != 0, timeout_ms, reason);
  });
}

void* summary_create_c(const lms_str* ignored, size_t count) {
  return sdk::guard([&]() -> void* { return new ResultSummarizer(ignored, count); },
                    static_cast<void*>(nullptr));
}

void summary_feed_c(void* summary, const uint8_t* data, size_t len) {
  static_cast<ResultSummarizer*>(summary)->feed(data, len);
}

void summary_get_c(void* summary, lms_result_summary* out) {
  sdk::guard_void([&] { static_cast<ResultSummarizer*>(summary)->get(out); });
}

void summary_reset_c(void* summary) { static_cast<ResultSummarizer*>(summary)->reset(); }

void summary_destroy_c(void* summary) { delete static_cast<ResultSummarizer*>(summary); }

void normalize_c(const char* sql, size_t len, const lms_emitter* out) {
  sdk::guard_void([&] {
    const std::string normalized = normalize_sql({sql, len});
    out->emit(out->ctx, reinterpret_cast<const uint8_t*>(normalized.data()), normalized.size());
  });
}

void emit_bytes(const lms_emitter* out, const std::vector<uint8_t>& bytes) {
  if (!bytes.empty()) out->emit(out->ctx, bytes.data(), bytes.size());
}

// PostgreSQL and CockroachDB differ in what a client's "use database" becomes.
void encode_translated_postgres_c(const lms_request* request, const lms_emitter* out) {
  sdk::guard_void([&] { emit_bytes(out, encode_translated(*request, UseDatabase::kSearchPath)); });
}

void encode_translated_cockroach_c(const lms_request* request, const lms_emitter* out) {
  sdk::guard_void([&] { emit_bytes(out, encode_translated(*request, UseDatabase::kSetDatabase)); });
}

void* decoder_create_c() {
  return sdk::guard([]() -> void* { return new AnswerDecoder; }, static_cast<void*>(nullptr));
}

void decoder_feed_c(void* decoder, const uint8_t* data, size_t len) {
  sdk::guard_void([&] { static_cast<AnswerDecoder*>(decoder)->feed(data, len); });
}

uint32_t decoder_next_c(void* decoder, lms_answer* out) {
  try {
    return static_cast<AnswerDecoder*>(decoder)->next(out);
  } catch (...) {
    out->message = {"out of memory", 13};
    return LMS_FRAME_INVALID;
  }
}

void decoder_destroy_c(void* decoder) { delete static_cast<AnswerDecoder*>(decoder); }

}  // namespace

lms_dialect_functions make_dialect_functions(uint16_t default_port, Flavor flavor) {
  lms_dialect_functions f{};
  f.struct_size = sizeof f;
  f.default_port = default_port;
  f.cancel_key_len = kCancelKeyLength;
  f.cancel_key_shown = 4;  // BackendKeyData: the process id, then the secret
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
  // CockroachDB's pg_catalog.pg_stat_activity carries the same columns (xact_start included).
  f.open_transactions = open_transactions_c;
  // CockroachDB keeps no pg_stat_database row counts, and takes no DO block: neither is offered.
  if (flavor == Flavor::kPostgres) {
    f.rows_written = rows_written_c;
    f.fence = fence_c;
    // CockroachDB has no WAL position or slots to read (its changefeeds keep their own).
    f.replication_position = replication_position_c;
    f.list_logins = list_logins_c;
  }
  f.summary_create = summary_create_c;
  f.summary_feed = summary_feed_c;
  f.summary_get = summary_get_c;
  f.summary_reset = summary_reset_c;
  f.summary_destroy = summary_destroy_c;
  f.normalize = normalize_c;
  f.encode_reset = encode_reset_c;
  f.encode_translated =
      flavor == Flavor::kCockroach ? encode_translated_cockroach_c : encode_translated_postgres_c;
  f.decoder_create = decoder_create_c;
  f.decoder_feed = decoder_feed_c;
  f.decoder_next = decoder_next_c;
  f.decoder_destroy = decoder_destroy_c;
  fill_pool_functions(f, flavor);
  return f;
}

}  // namespace lms::pgwire
