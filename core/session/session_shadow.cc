// Shadowing inside a session: the shadow plugin's decision for each request, the link to the
// target opened on the first request sent there (and brought to the session's state), and the
// target's answers.
#include "emit_into.h"
#include "session/session.h"

namespace lms::core {

Session::Route Session::decide(const lms_frame& first) {
  Route route;
  if (shared_.shadow == nullptr) return route;
  lms_request_info request{};
  request.struct_size = sizeof request;
  request.msg_class = first.msg_class;
  request.txn_state = tracker_.txn_state();
  request.target_busy = link_ && link_->outstanding() > 0;
  request.target_available = !link_ || link_->available();
  const std::string_view statement = statement_at_start(first);
  request.statement = {statement.data(), statement.size()};
  lms_shadow_decision decision{};
  decision.struct_size = sizeof decision;
  shared_.shadow->decide(shared_.shadow_state, &request, &decision);
  route.answer = decision.answer;
  // A whole request that only defines or drops session state (a SET, a PREPARE, MySQL's
  // COM_STMT_PREPARE) is light work for the target: it does not make it count as busy.
  route.light = first_effect_ != LMS_EFFECT_NONE && first_effect_ != LMS_EFFECT_BIND &&
                first.msg_class == LMS_MSG_QUERY;
  if (decision.send_to_target == 0) {
    // Such a request reaches a target the session already shadows to, whatever the plugin
    // decided, so that what runs there later runs in the same state.
    const bool keeps_state_in_step = route.light && link_ && link_->available();
    if (!keeps_state_in_step) {
      route.dropped = request.target_busy != 0;
      return route;
    }
    route.keeps_state = true;
  }
  if (!link_) open_shadow_link();
  route.unavailable = !link_->available();
  route.send = !route.unavailable;
  // A request sent only to keep state in step is nobody's answer to wait for or compare.
  route.wait = decision.wait_for_target != 0 && !route.keeps_state;
  route.compare = route.send && decision.compare != 0 && !route.keeps_state && shared_.validation.enabled;
  return route;
}

std::string Session::shadow_unavailable_error() const {
  return encode_client_error(dialect_, "08006", "lms: the target database is not available");
}

void Session::open_shadow_link() {
  const uint8_t other = truth_ == kTargetRole ? kSourceRole : kTargetRole;
  link_ = std::make_unique<ShadowLink>(static_cast<ShadowLinkOwner&>(*this), worker_, startup_params_, id_,
                                       other, prepared_statements());
  // What the session set up before shadowing began (settings, named statements) runs on the target
  // first, as a cutover replays it on the new source of truth.
  link_->replay(carried_.replay());
}

void Session::on_target_answered(uint64_t id, bool ok, const std::string& error, AnswerDigest* answer) {
  if (!ok) ++shadow_failed_;
  if (answer != nullptr) target_answered(id, answer);
  if (Request* r = tracker_.find(id); r != nullptr) {
    r->target_done = true;
    r->target_failed = !ok;
    r->target_error = error;
  }
  resume_source();
}

void Session::route_request(Request& r, bool staged, uint64_t length) {
  auto& m = worker_.mutable_metrics();
  r.wait = route_.wait || route_.unavailable;
  r.answer = route_.answer;
  if (route_.send) {
    ++shadow_sent_;
    m.shadow_requests.add();
    if (r.wait) m.shadow_waits.add();
    r.compare = route_.compare;
    r.keeps_state = route_.keeps_state;
    r.light = route_.light;
    if (r.compare) open_comparison(r.id);
    if (staged) {
      r.staged = true;
      r.staged_end = staged_base_ + staged_.size() + length;
      ++undispatched_;
    } else {
      r.dispatched = true;
      link_->expect_answer(r.id, false, r.compare, r.keeps_state || r.light);
    }
  } else if (route_.unavailable) {
    // The target is gone for this session: a waiting mode gets its defined outcome at once.
    ++shadow_failed_;
    m.shadow_target_errors.add();
    r.target_done = true;
    r.target_failed = true;
    r.target_error = link_ && !link_->failure().empty() ? link_->failure() : shadow_unavailable_error();
  } else if (route_.dropped) {
    ++shadow_dropped_;
    m.shadow_dropped.add();
  }
}

}  // namespace lms::core
