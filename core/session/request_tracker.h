// What a session's client has asked and its database has answered, kept message by message: the
// requests in flight, whether the client is in the middle of sending one, whether the answer to
// the oldest has begun, the transaction state the database last reported, and whether its last
// message was an error.
//
// A request is what the client sends up to a message a ReadyForQuery answers (a Query, a Sync, a
// FunctionCall; each of MySQL's commands); its answer ends with the database's ReadyForQuery (the
// packet that ends a MySQL answer). Requests are answered in order, so the oldest one in flight is
// always the one being answered. Pure bookkeeping, fed the frames the session's scanners find:
// no socket, no clock (the caller gives the time), no dialect.
#pragma once

#include <lms/plugin.h>

#include <cstdint>
#include <optional>
#include <string>

#include "session/ring_queue.h"

namespace lms::core {

// One request in flight. The tracker keeps `id` and `sent_ns`; the rest is what the shadow router
// decided for it and what became of its copy on the other database, carried along with it.
struct Request {
  uint64_t id = 0;
  uint64_t sent_ns = 0;
  bool wait = false;  // the client's answer waits for the target's
  uint32_t answer = LMS_ANSWER_SOURCE;
  bool flow = false;         // waits no more (the source asked the client for COPY data)
  bool compare = false;      // both answers are summarized and judged (validation)
  bool keeps_state = false;  // sent only to keep the target's session state in step
  bool light = false;        // it only defines or drops session state: the target is not busy with it
  bool target_done = false;
  bool target_failed = false;
  std::string target_error;  // for the client, in its protocol
  // A waited request reaches the target only once the source's answer has begun: the source
  // has then run it and taken its locks, so the target sees writes in the source's lock order
  // and two sessions can never wait for each other across the two databases.
  bool staged = false;      // its bytes wait in the router's staged bytes until dispatch
  uint64_t staged_end = 0;  // where they end in the staged stream
  bool dispatched = false;
  // A statement the database names in its answer (MySQL): the client's message that prepares
  // it, kept until the name comes.
  std::string unnamed_prepare;
};

class RequestTracker {
 public:
  // What one client message is to the requests.
  enum class ClientMessage {
    kOutside,   // part of no request: Terminate, a message nothing answers, COPY data (which
                // belongs to the request that started the COPY, already in flight)
    kStarts,    // the first message of a request (more may follow before it is sent)
    kContinues  // a later message of the request being sent
  };

  // The client's message `f`, as it starts. After a kStarts or kContinues, ends_request(f) says
  // whether it is the request's last, and then send() puts it in flight.
  ClientMessage on_client_message(const lms_frame& f);
  static bool ends_request(const lms_frame& f) {
    return f.msg_class == LMS_MSG_QUERY || f.msg_class == LMS_MSG_SYNC || f.msg_class == LMS_MSG_FUNCTION_CALL;
  }
  // The request being sent is complete: it is in flight from `now_ns`. The caller fills in what
  // was decided for it.
  Request& send(uint64_t now_ns);

  // The database's message `f`, as it starts. Returns the request it completes (a ReadyForQuery
  // ends the oldest request's answer), taken out of flight; nullopt otherwise, or when it answers
  // nothing the tracker counted (an answer lms itself asked for, a message the database sent
  // unasked).
  std::optional<Request> on_database_message(const lms_frame& f);
  // An error of its own, or the end of an answer that failed (MySQL's ERR is both).
  static bool is_error(const lms_frame& f) {
    return f.msg_class == LMS_MSG_ERROR || (f.msg_class == LMS_MSG_READY && (f.flags & LMS_FRAME_FLAG_ERROR) != 0);
  }

  RingQueue<Request>& in_flight() { return in_flight_; }
  const RingQueue<Request>& in_flight() const { return in_flight_; }
  // The request whose answer comes next, if any.
  Request* oldest() { return in_flight_.empty() ? nullptr : &in_flight_.front(); }
  Request* find(uint64_t id);
  // The id the next request will get.
  uint64_t next_id() const { return next_id_; }
  // The client has sent some of a request's messages but not its last.
  bool sending() const { return sending_; }
  // Some of the oldest request's answer has gone by.
  bool answer_started() const { return answer_started_; }
  // As the database last said: LMS_TXN_IDLE, LMS_TXN_IN_TRANSACTION or LMS_TXN_FAILED.
  uint32_t txn_state() const { return txn_state_; }
  // The database's last message was an error (or ended an answer that failed).
  bool last_failed() const { return last_failed_; }
  // Nothing asked, nothing unanswered, no transaction open: the session may pause or move here.
  bool idle() const { return in_flight_.empty() && !sending_ && txn_state_ == LMS_TXN_IDLE; }

 private:
  RingQueue<Request> in_flight_;  // sent, answer not complete; the oldest one's answer comes next
  uint64_t next_id_ = 1;
  bool sending_ = false;
  bool answer_started_ = false;
  uint32_t txn_state_ = LMS_TXN_IDLE;
  bool last_failed_ = false;
};

}  // namespace lms::core
