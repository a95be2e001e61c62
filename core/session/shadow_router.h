// Where a session's requests go besides the source of truth. For each request: the shadow plugin's
// decision (send it to the other database too? wait for it? compare the answers?), the bytes
// copied for the target, sent at once or staged until the source has begun to answer, the staged
// requests dispatched in order, and, in strict-sync, the source's answer replaced by the target's
// error. It does no I/O of its own: it reaches the target through ShadowTarget, which the session's
// ShadowLink implements, so shadow_router_test drives it with plain frames and a recording target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "lms/plugin.h"
#include "session/request_tracker.h"

namespace lms::core {

// The session's connection to the other database, as the router sees it.
class ShadowTarget {
 public:
  virtual bool available() const = 0;
  virtual size_t outstanding() const = 0;
  // Once unavailable: the error a request that needed the target gets, in the client's protocol.
  virtual const std::string& failure() const = 0;
  virtual void send(const uint8_t* data, size_t len) = 0;
  virtual void expect_answer(uint64_t id, bool waited, bool compare, bool keeps_state) = 0;
  virtual void abandon(const std::string& reason, const std::string& message) = 0;

 protected:
  ~ShadowTarget() = default;
};

// The decision for the request being sent.
struct ShadowRoute {
  bool send = false;
  bool wait = false;
  uint32_t answer = LMS_ANSWER_SOURCE;
  bool compare = false;      // the plugin wants both answers compared
  bool keeps_state = false;  // the plugin did not want it, but it changes session state
  bool light = false;        // it only defines or drops session state: the target is not busy with it
  bool dropped = false;      // the plugin held it back from a busy target
  bool unavailable = false;  // the plugin wanted it sent, but the target link is broken
  bool open_target = false;  // it is the first request sent: the session opens the target now
};

class ShadowRouter {
 public:
  struct Settings {
    const lms_shadow_functions* plugin = nullptr;  // null: no target configured, nothing is shadowed
    void* plugin_state = nullptr;
    bool validation = false;  // comparisons the plugin asks for are made
    uint64_t buffer_limit = 0;  // staged bytes beyond this stop shadowing for the session
    std::string unavailable_error;  // in the client's protocol, for a target that never answered
  };
  // What a request put in flight became, for the worker's counters.
  enum class Outcome { kNotSent, kSent, kSentWaited, kFailed, kDropped };

  explicit ShadowRouter(Settings settings) : settings_(std::move(settings)) {}

  // The target the session opened (on the route's open_target), or null once it closed at a switch.
  void set_target(ShadowTarget* target) { target_ = target; }
  bool shadowing() const { return target_ != nullptr && target_->available(); }
  // Whether a shadow plugin decides requests at all (no target configured: none does).
  bool decides() const { return settings_.plugin != nullptr; }

  // ---- the client's messages, in order ----
  // The first message of a request. `effect`: what it does to session state (LMS_EFFECT_*);
  // `statement`: its SQL when known now.
  const ShadowRoute& decide(const lms_frame& first, uint32_t txn_state, uint32_t effect,
                            std::string_view statement);
  const ShadowRoute& route() const { return route_; }
  // A message outside any request: one nothing answers (MySQL COM_STMT_CLOSE), which reaches the
  // target after what is staged, or COPY data, which belongs to the request that started the
  // COPY. Returns whether its bytes are copied (give them to copy()).
  bool copy_outside_request(uint32_t msg_class);
  // A message of the request decided last. Returns whether its bytes are copied.
  bool copy_request_message(const lms_frame& f);
  // The message just given ends request `r` (just put in flight).
  Outcome sent(Request& r, uint64_t length);
  // The bytes of the message being walked, when it is copied.
  void copy(const uint8_t* data, size_t n) {
    if (copying_) copy_into_->append(reinterpret_cast<const char*>(data), n);
  }
  // What was copied for the target now (not staged) goes; after the source got the read.
  void send_copied();

  // ---- the source's answers ----
  // The source begins answering `front`: a staged request reaches the target now, or fails at
  // once if the target is gone. Then says whether the client's answer waits for the target.
  bool dispatch(Request& front);
  // strict-sync: the answer beginning now is replaced when the target failed the request.
  void begin_answer(const Request& front) {
    replacing_ = front.wait && front.target_done && front.target_failed &&
                 front.answer == LMS_ANSWER_TARGET_ERROR_WINS;
  }
  bool replacing() const { return replacing_; }
  // A message of the answer being replaced: its own error and its ReadyForQuery are kept.
  // Returns whether its bytes are kept (give them to keep()).
  bool keep_answer_message(uint32_t msg_class);
  void keep(const uint8_t* data, size_t n) {
    if (keep_into_ != nullptr) keep_into_->append(reinterpret_cast<const char*>(data), n);
  }
  // The request the answer being replaced completes.
  void answered(const Request& done) {
    if (replacing_) target_error_ = done.target_error;
  }
  // Once the replaced answer has ended: what the client gets instead, the source's own error if
  // it failed too, else the target's, then the source's ReadyForQuery. Empty before.
  std::optional<std::string> take_replacement();

  // ---- the target's answers ----
  void target_answered(bool ok) {
    if (!ok) ++failed_;
  }

  // No request waits in the staged bytes.
  bool nothing_staged() const { return undispatched_ == 0; }
  uint64_t requests_sent() const { return sent_; }
  uint64_t requests_dropped() const { return dropped_; }
  uint64_t requests_failed() const { return failed_; }

 private:
  const std::string& unavailable_error() const {
    return target_ != nullptr && !target_->failure().empty() ? target_->failure() : settings_.unavailable_error;
  }

  Settings settings_;
  ShadowTarget* target_ = nullptr;
  ShadowRoute route_;
  bool staging_ = false;   // the request being sent waits in staged_
  bool building_ = false;  // a request has begun (decide) and is not yet sent
  bool copying_ = false;  // the message being walked is copied
  std::string* copy_into_ = &to_target_;
  std::string to_target_;      // the current read's bytes bound for the target now
  std::string staged_;         // bytes of requests not yet dispatched to the target, in order
  uint64_t staged_base_ = 0;   // stream offset of staged_[0]
  uint32_t undispatched_ = 0;  // staged requests; while any, later ones are staged behind them

  bool replacing_ = false;
  std::string* keep_into_ = nullptr;
  std::string replaced_error_;  // the source's own error in the replaced answer
  std::string replaced_ready_;
  std::string target_error_;  // the target's error for the answer being replaced

  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
  uint64_t failed_ = 0;
};

}  // namespace lms::core
