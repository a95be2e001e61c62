// Where MySQL messages end and what they are. Unlike PostgreSQL's, MySQL's packets do not say what
// they are: a result set's rows and its end, or a column definition and an OK, look alike unless
// one knows which command the server answers and how far into the answer it is. So framing is a
// state machine per connection, fed every packet of both directions in order (ABI 1.3 framer).
#pragma once

#include <lms/plugin.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>

namespace lms::mysql {

// Classifies packets by the protocol's rules, for one client connection and its server
// connection. Capabilities are those both sides agreed on (they decide whether EOF packets are
// sent). A call that returns COMPLETE has taken the packet; NEED_MORE and INVALID change nothing.
class Framer {
 public:
  explicit Framer(uint32_t capabilities);

  void next(lms_direction direction, const uint8_t* data, size_t len, lms_frame* out);

  // What the server's next packets answer, oldest first (for tests).
  size_t pending_answers() const { return expected_.size(); }

 private:
  // What kind of answer a command gets.
  // kExecuteCursor: a COM_STMT_EXECUTE that asked for a cursor, whose answer may end after the
  // columns (the rows then come with COM_STMT_FETCH).
  enum class Answer { kGeneric, kQuery, kExecute, kExecuteCursor, kFetch, kPrepare, kFieldList, kStatistics };
  // Where in that answer the server is.
  enum class Stage {
    kFirst,          // the answer's first packet: OK, ERR, or a result set's column count
    kColumns,        // column definitions of a result set
    kColumnsEof,     // the EOF after them (without CLIENT_DEPRECATE_EOF)
    kRows,           // rows, up to an EOF / OK / ERR
    kPrepareParams,  // COM_STMT_PREPARE's parameter definitions
    kPrepareParamsEof,
    kPrepareColumns,  // and its column definitions
    kPrepareColumnsEof,
  };

  void client(const uint8_t* data, size_t len, uint32_t payload_len, lms_frame* out);
  void server(const uint8_t* data, size_t len, uint32_t payload_len, lms_frame* out);
  // The packet ends the answer: READY with the transaction state.
  void finish_answer(lms_frame* out, bool failed);
  // Parses an OK or EOF packet's status flags (payload starts at its header byte).
  bool read_status(const uint8_t* payload, size_t len, bool eof_layout, uint16_t* status) const;

  bool deprecate_eof_;
  std::deque<Answer> expected_;
  Stage stage_ = Stage::kFirst;
  uint64_t left_ = 0;  // definitions left in the current stage
  uint64_t prepare_columns_ = 0;
  bool in_transaction_ = false;
  // A packet of 16 MB - 1 bytes continues in the next one; which side is in the middle of one.
  bool client_continues_ = false;
  bool server_continues_ = false;
  uint8_t continued_command_ = 0;     // the command a continued client message started with
  bool execute_asks_cursor_ = false;  // that command is a COM_STMT_EXECUTE with a cursor type
  // Parameters of each statement the server prepared, by id: where a COM_STMT_EXECUTE's
  // new-params-bound flag sits (LMS_FRAME_FLAG_TYPES). Bounded like the server's own table.
  std::unordered_map<uint32_t, uint16_t> statement_params_;
};

// The stateless `frame` of the ABI: the client's direction only, without messages of 16 MB or
// more. The core uses the Framer; this serves callers that only look at what clients send.
void frame_client_packet(const uint8_t* data, size_t len, lms_frame* out);

}  // namespace lms::mysql
