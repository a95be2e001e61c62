// Shadowing inside a session: the router's decision for each request, the link to the target
// opened on the first request sent there (and brought to the session's state), and the target's
// answers. What reaches the target, and when, is the router's (shadow_router.h).
#include "emit_into.h"
#include "session/session.h"

namespace lms::core {

ShadowRouter::Settings Session::router_settings(ProxyShared& shared) {
  ShadowRouter::Settings s;
  if (shared.shadow == nullptr) return s;  // no target: the router decides nothing
  s.plugin = shared.shadow;
  s.plugin_state = shared.shadow_state;
  s.validation = shared.validation.enabled;
  s.buffer_limit = shared.config->buffer_limit;
  s.unavailable_error = encode_client_error(shared.dialect, "08006", "lms: the target database is not available");
  return s;
}

void Session::decide(const lms_frame& first) {
  // What the request runs matters only to a shadow plugin: without one, nothing is looked up (it
  // costs a Bind a statement lookup and a second inspection).
  first_effect_ = LMS_EFFECT_NONE;
  const std::string_view statement = router_.decides() ? statement_at_start(first) : std::string_view();
  if (router_.decide(first, tracker_.txn_state(), first_effect_, statement).open_target) open_shadow_link();
}

void Session::open_shadow_link() {
  const uint8_t other = truth_ == kTargetRole ? kSourceRole : kTargetRole;
  link_ = std::make_unique<ShadowLink>(static_cast<ShadowLinkOwner&>(*this), worker_, startup_params_,
                                       credentials_for(other), id_, other, prepared_statements());
  router_.set_target(link_.get());
  // What the session set up before shadowing began (settings, named statements) runs on the target
  // first, as a cutover replays it on the new source of truth.
  link_->replay(carried_.replay());
}

void Session::retire_shadow_link() {
  if (!link_) return;
  router_.set_target(nullptr);
  link_->close();
  retired_links_.push_back(std::move(link_));
}

void Session::on_target_answered(uint64_t id, bool ok, const std::string& error, AnswerDigest* answer) {
  router_.target_answered(ok);
  if (answer != nullptr) target_answered(id, answer);
  if (Request* r = tracker_.find(id); r != nullptr) {
    r->target_done = true;
    r->target_failed = !ok;
    r->target_error = error;
  }
  resume_source();
}

void Session::route_request(Request& r, uint64_t length) {
  auto& m = worker_.mutable_metrics();
  switch (router_.sent(r, length)) {
    case ShadowRouter::Outcome::kSentWaited:
      m.shadow_waits.add();
      [[fallthrough]];
    case ShadowRouter::Outcome::kSent:
      m.shadow_requests.add();
      if (r.compare) open_comparison(r.id);
      break;
    case ShadowRouter::Outcome::kFailed:
      m.shadow_target_errors.add();
      break;
    case ShadowRouter::Outcome::kDropped:
      m.shadow_dropped.add();
      break;
    case ShadowRouter::Outcome::kNotSent:
      break;
  }
}

}  // namespace lms::core
