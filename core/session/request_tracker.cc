#include "session/request_tracker.h"

namespace lms::core {

RequestTracker::ClientMessage RequestTracker::on_client_message(const lms_frame& f) {
  switch (f.msg_class) {
    case LMS_MSG_TERMINATE:
    case LMS_MSG_NO_ANSWER:
    case LMS_MSG_COPY_DATA:
    case LMS_MSG_COPY_END:
      return ClientMessage::kOutside;
    default:
      break;
  }
  if (sending_) return ClientMessage::kContinues;
  sending_ = true;
  return ClientMessage::kStarts;
}

Request& RequestTracker::send(uint64_t now_ns) {
  sending_ = false;
  Request& r = in_flight_.emplace_back();
  r.id = next_id_++;
  r.sent_ns = now_ns;
  return r;
}

std::optional<Request> RequestTracker::on_database_message(const lms_frame& f) {
  if (!in_flight_.empty()) answer_started_ = true;
  last_failed_ = is_error(f);
  if (f.msg_class != LMS_MSG_READY) return std::nullopt;
  txn_state_ = f.txn_state;
  answer_started_ = false;
  if (in_flight_.empty()) return std::nullopt;
  std::optional<Request> done(std::move(in_flight_.front()));
  in_flight_.pop_front();
  return done;
}

Request* RequestTracker::find(uint64_t id) {
  for (Request& r : in_flight_) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace lms::core
