#include "session/shadow_router.h"

namespace lms::core {

const ShadowRoute& ShadowRouter::decide(const lms_frame& first, uint32_t txn_state, uint32_t effect,
                                        std::string_view statement) {
  route_ = ShadowRoute{};
  staging_ = false;
  building_ = true;
  if (settings_.plugin == nullptr) return route_;
  lms_request_info request{};
  request.struct_size = sizeof request;
  request.msg_class = first.msg_class;
  request.txn_state = txn_state;
  request.target_busy = target_ != nullptr && target_->outstanding() > 0;
  request.target_available = target_ == nullptr || target_->available();
  request.statement = {statement.data(), statement.size()};
  lms_shadow_decision decision{};
  decision.struct_size = sizeof decision;
  settings_.plugin->decide(settings_.plugin_state, &request, &decision);
  route_.answer = decision.answer;
  // A whole request that only defines or drops session state (a SET, a PREPARE, MySQL's
  // COM_STMT_PREPARE) is light work for the target: it does not make it count as busy.
  route_.light = effect != LMS_EFFECT_NONE && effect != LMS_EFFECT_BIND && effect != LMS_EFFECT_HOLDS &&
                 effect != LMS_EFFECT_RELEASES && first.msg_class == LMS_MSG_QUERY;
  if (decision.send_to_target == 0) {
    // Such a request reaches a target the session already shadows to, whatever the plugin
    // decided, so that what runs there later runs in the same state.
    if (!(route_.light && shadowing())) {
      route_.dropped = request.target_busy != 0;
      return route_;
    }
    route_.keeps_state = true;
  }
  // A target opened for this request is not broken yet.
  route_.open_target = target_ == nullptr;
  route_.unavailable = target_ != nullptr && !target_->available();
  route_.send = !route_.unavailable;
  // A request sent only to keep state in step is nobody's answer to wait for or compare.
  route_.wait = decision.wait_for_target != 0 && !route_.keeps_state;
  route_.compare = route_.send && decision.compare != 0 && !route_.keeps_state && settings_.validation;
  // A waited request reaches the target once the source's answer begins (see Request::staged),
  // and every request behind a staged one waits its turn. Decided once for all of the request's
  // messages: its first ones staged and its last sent at once would reach the target apart.
  staging_ = route_.send && (route_.wait || undispatched_ > 0);
  return route_;
}

bool ShadowRouter::copy_outside_request(uint32_t msg_class) {
  switch (msg_class) {
    case LMS_MSG_NO_ANSWER:
      // It may drop a statement, which the target drops too, after whatever it already has.
      copying_ = shadowing();
      copy_into_ = undispatched_ > 0 ? &staged_ : &to_target_;
      break;
    case LMS_MSG_COPY_DATA:
    case LMS_MSG_COPY_END:
      // The target already has the request that started the COPY.
      copying_ = route_.send;
      copy_into_ = &to_target_;
      break;
    default:
      copying_ = false;
  }
  return copying_;
}

bool ShadowRouter::copy_request_message(const lms_frame& f) {
  // Statements are defined and dropped on the target even in a request it does not run, so a
  // later request it does run finds them.
  const bool defines_state = f.msg_class == LMS_MSG_PREPARE || f.msg_class == LMS_MSG_CLOSE;
  copying_ = route_.send || (defines_state && shadowing());
  copy_into_ = staging_ ? &staged_ : &to_target_;
  if (staging_ && staged_.size() + f.length > settings_.buffer_limit) {
    // Too large to hold back for the target: shadowing stops for this session rather than
    // letting memory grow.
    target_->abandon("a request larger than buffer-limit", "lms: a request too large to shadow");
    route_.send = false;
    route_.unavailable = true;
  }
  return copying_;
}

ShadowRouter::Outcome ShadowRouter::sent(Request& r, uint64_t length) {
  building_ = false;
  r.wait = route_.wait || route_.unavailable;
  r.answer = route_.answer;
  if (route_.send) {
    ++sent_;
    r.compare = route_.compare;
    r.keeps_state = route_.keeps_state;
    r.light = route_.light;
    if (staging_) {
      // Its last message is copied after this: `length` bytes past what is staged now.
      r.staged = true;
      r.staged_end = staged_base_ + staged_.size() + length;
      ++undispatched_;
    } else {
      r.dispatched = true;
      target_->expect_answer(r.id, false, r.compare, r.keeps_state || r.light);
    }
    return r.wait ? Outcome::kSentWaited : Outcome::kSent;
  }
  if (route_.unavailable) {
    // The target is gone for this session: a waiting mode gets its defined outcome at once.
    ++failed_;
    r.target_done = true;
    r.target_failed = true;
    r.target_error = unavailable_error();
    return Outcome::kFailed;
  }
  if (route_.dropped) {
    ++dropped_;
    return Outcome::kDropped;
  }
  return Outcome::kNotSent;
}

void ShadowRouter::send_copied() {
  if (to_target_.empty()) return;
  if (target_ != nullptr) target_->send(reinterpret_cast<const uint8_t*>(to_target_.data()), to_target_.size());
  to_target_.clear();
}

bool ShadowRouter::dispatch(Request& front) {
  if (front.staged && !front.dispatched) {
    front.dispatched = true;
    --undispatched_;
    const size_t n = static_cast<size_t>(front.staged_end - staged_base_);
    if (shadowing()) {
      target_->send(reinterpret_cast<const uint8_t*>(staged_.data()), n);
      target_->expect_answer(front.id, front.wait, front.compare, front.keeps_state || front.light);
    } else if (!front.target_done) {
      front.target_done = true;
      front.target_failed = true;
      front.target_error = unavailable_error();
    }
    staged_.erase(0, n);
    staged_base_ = front.staged_end;
    if (undispatched_ == 0 && !building_ && !staged_.empty()) {
      // What is left was staged behind this request without opening one (a message nothing
      // answers): with no request left to carry it, it goes now, before anything later. (While
      // a request is being sent, it is the start of that request, dispatched with it.)
      if (shadowing()) target_->send(reinterpret_cast<const uint8_t*>(staged_.data()), staged_.size());
      staged_base_ += staged_.size();
      staged_.clear();
    }
  }
  // Once failed while sending, there is nothing left to wait for.
  return front.wait && !front.flow && !front.target_done;
}

bool ShadowRouter::keep_answer_message(uint32_t msg_class) {
  keep_into_ = nullptr;
  if (replacing_) {
    if (msg_class == LMS_MSG_ERROR && replaced_error_.empty()) {
      keep_into_ = &replaced_error_;
    } else if (msg_class == LMS_MSG_READY) {
      keep_into_ = &replaced_ready_;
    }
  }
  return keep_into_ != nullptr;
}

std::optional<std::string> ShadowRouter::take_replacement() {
  if (!replacing_ || replaced_ready_.empty()) return std::nullopt;
  std::string answer = replaced_error_.empty() ? std::move(target_error_) : std::move(replaced_error_);
  answer += replaced_ready_;
  replaced_error_.clear();
  replaced_ready_.clear();
  target_error_.clear();
  replacing_ = false;
  keep_into_ = nullptr;
  return answer;
}

}  // namespace lms::core
