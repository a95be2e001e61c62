// The client's side of a translation (ABI 1.5): a MySQL client's commands become neutral
// requests for a database of another protocol, and that database's neutral answers become the
// packets the client expects (text rows for COM_QUERY, binary rows for COM_STMT_EXECUTE, OK, EOF
// and ERR with their status flags, COM_STMT_PREPARE_OK).
#pragma once

#include <lms/plugin.h>
#include <lms/stream.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "binary_protocol.h"

namespace lms::mysql {

// The offsets of `?` parameter markers in `sql`, skipping quoted strings, quoted identifiers and
// comments.
std::vector<size_t> parameter_markers(std::string_view sql);

class Translator {
 public:
  // `statements`: name (the statement id the client knows) and the client's messages that made
  // it, its COM_STMT_PREPARE, then, if it has run, a COM_STMT_EXECUTE that bound its types.
  Translator(const lms_kv* params, size_t param_count, const lms_kv* statements, size_t statement_count);

  void feed(const uint8_t* data, size_t len);
  uint32_t next(lms_request* out);
  void answer(const lms_answer& a, const lms_emitter* out);
  // A statement prepared through another connection, by the id its database gave it.
  void learn(std::string_view name, std::string_view messages);

 private:
  struct Statement {
    std::string sql;
    std::vector<size_t> markers;
    std::vector<ParamType> types;               // as last bound; empty until a COM_STMT_EXECUTE sends them
    bool prepared_here = false;                 // the database answered its PREPARE (or first EXECUTE)
    std::map<uint16_t, std::string> long_data;  // COM_STMT_SEND_LONG_DATA, by parameter
  };
  // What the answer at the front of the queue is for: a command the database runs, or one
  // answered here when its turn comes (the database only answers a round trip).
  enum class Mode { kText, kBinary, kPrepare, kOk, kEof, kStatistics, kRefused };
  struct Pending {
    Mode mode;
    uint32_t statement = 0;
    std::string refusal;  // kRefused: the ERR packet's payload
  };
  // The OK or EOF that ends one statement's answer.
  struct End {
    bool eof_layout;  // ends a result set
    uint64_t affected;
  };

  // Decodes one whole command.
  uint32_t command(std::string_view payload, lms_request* out);
  uint32_t execute(std::string_view payload, lms_request* out);
  // A request of `kind` about statement `id`: its name, text and parameter markers.
  void name_statement(uint32_t id, const Statement& st, uint32_t kind, lms_request* out);
  // A command answered here, in its turn among the database's answers.
  uint32_t answer_locally(Mode mode, lms_request* out);
  uint32_t refuse(uint16_t code, std::string_view sqlstate, std::string_view message, lms_request* out);
  uint32_t invalid(const char* why, lms_request* out);
  void register_statement(uint32_t id, std::string_view messages);

  // Answer encoding.
  void emit(const lms_emitter* out, std::string_view payload);
  // The OK or EOF that ends a statement's answer waits until the next event says whether more
  // results follow.
  void flush_end(const lms_emitter* out, bool more);
  uint16_t status(bool more) const;
  void finish(const lms_emitter* out);

  uint32_t capabilities_;
  uint16_t charset_ = 45;  // utf8mb4_general_ci
  bool deprecate_eof_;

  // Requests.
  sdk::InputBuffer in_;
  std::string message_;  // the command being decoded, its packets joined
  std::map<uint32_t, Statement> statements_;
  uint32_t next_id_ = 1;
  std::string name_;
  std::vector<lms_value> values_;
  std::vector<std::string> texts_;
  std::deque<Pending> pending_;

  // Answers.
  uint8_t sequence_ = 1;
  bool errored_ = false;
  bool in_result_ = false;
  uint32_t txn_state_ = LMS_TXN_IDLE;
  uint16_t warnings_ = 0;
  std::optional<End> end_;
  std::vector<uint8_t> column_types_;  // of the result set being sent (binary rows need them)
  std::vector<lms_value> row_;
  Writer row_payload_;  // the row being encoded, kept across rows for its capacity
  std::string
      packets_;  // what emit sends, likewise                // the row being encoded, one value per column
  std::vector<std::string> prepare_columns_;  // a PREPARE's column definitions, until its READY
};

}  // namespace lms::mysql
