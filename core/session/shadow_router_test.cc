// The router over plain frames and a target that records what reaches it: what each shadow mode's
// decision makes of a request (sent now, staged until the source answers, waited for, dropped,
// failed), the bytes the target gets and in which order, the state-keeping requests a plugin did
// not ask for, the buffer limit, and strict-sync's replaced answer.
#include "session/shadow_router.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace lms::core {
namespace {

// The decision the plugin under test gives every request.
lms_shadow_decision g_decision{};
uint32_t g_decide_calls = 0;
lms_request_info g_last_request{};

const lms_shadow_functions kPlugin = [] {
  lms_shadow_functions f{};
  f.struct_size = sizeof f;
  f.decide = [](void*, const lms_request_info* request, lms_shadow_decision* out) {
    ++g_decide_calls;
    g_last_request = *request;
    *out = g_decision;
  };
  return f;
}();

void use_mode(uint8_t send, uint8_t wait, uint32_t answer = LMS_ANSWER_SOURCE, uint8_t compare = 0) {
  g_decision = {sizeof(lms_shadow_decision), send, wait, answer, compare};
}

struct Expected {
  uint64_t id;
  bool waited;
  bool compare;
  bool keeps_state;
};

class RecordingTarget final : public ShadowTarget {
 public:
  bool available() const override { return up; }
  size_t outstanding() const override { return busy; }
  const std::string& failure() const override { return failure_text; }
  void send(const uint8_t* data, size_t len) override { received.append(reinterpret_cast<const char*>(data), len); }
  void expect_answer(uint64_t id, bool waited, bool compare, bool keeps_state) override {
    expected.push_back({id, waited, compare, keeps_state});
    received += "|";  // where each request ends in what the target got
  }
  void abandon(const std::string&, const std::string& message) override {
    up = false;
    failure_text = message;
  }

  bool up = true;
  size_t busy = 0;
  std::string failure_text;
  std::string received;
  std::vector<Expected> expected;
};

lms_frame frame(uint32_t msg_class, uint64_t length) {
  lms_frame f{};
  f.struct_size = sizeof f;
  f.result = LMS_FRAME_COMPLETE;
  f.msg_class = msg_class;
  f.length = length;
  return f;
}

ShadowRouter make_router(uint64_t buffer_limit = 1 << 20, bool validation = true) {
  ShadowRouter::Settings s;
  s.plugin = &kPlugin;
  s.validation = validation;
  s.buffer_limit = buffer_limit;
  s.unavailable_error = "target not available";
  return ShadowRouter(s);
}

// One whole simple query `text` (one message that is the whole request), walked as the session
// walks it: decided, copied if the router says so, put in flight.
Request query(ShadowRouter& router, RecordingTarget& target, uint64_t id, const std::string& text,
              uint32_t effect = LMS_EFFECT_NONE) {
  const lms_frame f = frame(LMS_MSG_QUERY, text.size());
  if (router.decide(f, LMS_TXN_IDLE, effect, text).open_target) router.set_target(&target);
  const bool copied = router.copy_request_message(f);
  Request r;
  r.id = id;
  router.sent(r, text.size());
  if (copied) router.copy(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  router.send_copied();
  return r;
}

TEST(ShadowRouter, WithoutAPluginNothingIsDecidedOrCopied) {
  ShadowRouter router{ShadowRouter::Settings{}};
  const ShadowRoute& route = router.decide(frame(LMS_MSG_QUERY, 5), LMS_TXN_IDLE, LMS_EFFECT_NONE, "x");
  EXPECT_FALSE(route.send);
  EXPECT_FALSE(route.open_target);
  EXPECT_FALSE(router.copy_request_message(frame(LMS_MSG_QUERY, 5)));
}

TEST(ShadowRouter, AsyncSendsEachRequestAtOnceAndOpensTheTargetOnTheFirst) {
  use_mode(1, 0);
  ShadowRouter router = make_router();
  RecordingTarget target;
  const lms_frame f = frame(LMS_MSG_QUERY, 8);
  EXPECT_TRUE(router.decide(f, LMS_TXN_IDLE, LMS_EFFECT_NONE, "SELECT 1").open_target);
  router.set_target(&target);
  Request r1;
  r1.id = 1;
  router.copy_request_message(f);
  EXPECT_EQ(router.sent(r1, 8), ShadowRouter::Outcome::kSent);
  router.copy(reinterpret_cast<const uint8_t*>("SELECT 1"), 8);
  router.send_copied();
  Request r2 = query(router, target, 2, "SELECT 2");
  EXPECT_TRUE(r1.dispatched);
  EXPECT_TRUE(r2.dispatched);
  EXPECT_FALSE(r2.wait);
  // The answer is expected before the bytes are sent: both requests arrive, in order.
  EXPECT_EQ(target.received, "|SELECT 1|SELECT 2");
  ASSERT_EQ(target.expected.size(), 2u);
  EXPECT_EQ(target.expected[1].id, 2u);
  EXPECT_FALSE(target.expected[1].waited);
  EXPECT_EQ(router.requests_sent(), 2u);
  EXPECT_TRUE(router.nothing_staged());
  EXPECT_FALSE(router.dispatch(r2));  // nothing waits for the target
}

TEST(ShadowRouter, SyncStagesARequestUntilTheSourceAnswersAndHoldsTheAnswer) {
  use_mode(1, 1);
  ShadowRouter router = make_router();
  RecordingTarget target;
  Request r1 = query(router, target, 1, "UPDATE a");
  // A request behind a staged one waits its turn, even one the client need not wait for.
  use_mode(1, 0);
  Request r2 = query(router, target, 2, "SELECT b");
  EXPECT_TRUE(r1.staged && r1.wait);
  EXPECT_TRUE(r2.staged && !r2.wait);
  EXPECT_EQ(target.received, "");  // nothing before the source has begun to answer
  EXPECT_FALSE(router.nothing_staged());

  EXPECT_TRUE(router.dispatch(r1));  // the client's answer waits for the target's
  EXPECT_EQ(target.received, "UPDATE a|");
  EXPECT_TRUE(target.expected[0].waited);
  EXPECT_FALSE(router.dispatch(r2));
  EXPECT_EQ(target.received, "UPDATE a|SELECT b|");
  EXPECT_TRUE(router.nothing_staged());
  // Dispatching twice sends nothing twice.
  EXPECT_TRUE(router.dispatch(r1));
  EXPECT_EQ(target.received, "UPDATE a|SELECT b|");
  r1.target_done = true;
  EXPECT_FALSE(router.dispatch(r1));  // answered: nothing to wait for
}

TEST(ShadowRouter, ARequestThePluginKeepsBackIsDroppedOnlyWhenTheTargetIsBusy) {
  use_mode(1, 0);
  ShadowRouter router = make_router();
  RecordingTarget target;
  query(router, target, 1, "SELECT 1");
  use_mode(0, 0);
  Request idle = query(router, target, 2, "SELECT 2");
  EXPECT_EQ(router.requests_dropped(), 0u);
  EXPECT_FALSE(idle.dispatched);
  target.busy = 1;
  query(router, target, 3, "SELECT 3");
  EXPECT_EQ(router.requests_dropped(), 1u);
  EXPECT_TRUE(g_last_request.target_busy);
  EXPECT_EQ(target.received, "|SELECT 1");
}

TEST(ShadowRouter, SessionStateReachesATargetAlreadyShadowedToWhateverThePluginSays) {
  use_mode(0, 0);
  ShadowRouter router = make_router();
  RecordingTarget target;
  // No target yet: a SET the plugin keeps back goes nowhere (it is replayed when one opens).
  Request before = query(router, target, 1, "SET a=1", LMS_EFFECT_SETTING);
  EXPECT_FALSE(before.dispatched);
  use_mode(1, 0);
  query(router, target, 2, "SELECT 1");
  use_mode(0, 1, LMS_ANSWER_TARGET_ERROR_WINS, 1);
  Request set = query(router, target, 3, "SET b=2", LMS_EFFECT_SETTING);
  EXPECT_TRUE(set.keeps_state);
  EXPECT_FALSE(set.wait);     // nobody's answer waits for it
  EXPECT_FALSE(set.compare);  // nor is it compared
  EXPECT_TRUE(target.expected.back().keeps_state);
  EXPECT_EQ(target.received, "|SELECT 1|SET b=2");
}

TEST(ShadowRouter, AStatementDefinedInARequestNotShadowedStillReachesTheTarget) {
  use_mode(1, 0);
  ShadowRouter router = make_router();
  RecordingTarget target;
  query(router, target, 1, "SELECT 1");
  use_mode(0, 0);
  const lms_frame parse = frame(LMS_MSG_PREPARE, 5);
  router.decide(parse, LMS_TXN_IDLE, LMS_EFFECT_PREPARE, "");
  EXPECT_TRUE(router.copy_request_message(parse));
  EXPECT_FALSE(router.copy_request_message(frame(LMS_MSG_EXTENDED, 5)));  // its Bind does not
}

TEST(ShadowRouter, ABrokenTargetFailsAWaitingRequestAtOnceWithItsError) {
  use_mode(1, 1, LMS_ANSWER_TARGET_ERROR_WINS);
  ShadowRouter router = make_router();
  RecordingTarget target;
  query(router, target, 1, "SELECT 1");
  target.up = false;
  target.failure_text = "the target died";
  Request r = query(router, target, 2, "SELECT 2");
  EXPECT_TRUE(r.wait && r.target_done && r.target_failed);
  EXPECT_EQ(r.target_error, "the target died");
  EXPECT_EQ(router.requests_failed(), 1u);
  // A staged request whose target broke before dispatch fails there.
  RecordingTarget second;
  ShadowRouter other = make_router();
  Request staged = query(other, second, 3, "UPDATE x");
  second.up = false;
  EXPECT_FALSE(other.dispatch(staged));
  EXPECT_TRUE(staged.target_failed);
  EXPECT_EQ(staged.target_error, "target not available");
  EXPECT_EQ(second.received, "");
}

TEST(ShadowRouter, ARequestLargerThanTheBufferLimitStopsShadowingTheSession) {
  use_mode(1, 1);
  ShadowRouter router = make_router(16);
  RecordingTarget target;
  Request small = query(router, target, 1, "SELECT 1");
  Request large = query(router, target, 2, std::string(32, 'x'));
  EXPECT_TRUE(small.staged);
  EXPECT_FALSE(target.up);
  EXPECT_EQ(target.failure_text, "lms: a request too large to shadow");
  EXPECT_TRUE(large.target_failed);
  EXPECT_FALSE(router.shadowing());
}

TEST(ShadowRouter, StrictSyncReplacesTheAnswerWithTheTargetsErrorOrTheSourcesOwn) {
  for (const bool source_failed : {false, true}) {
    ShadowRouter router = make_router();
    Request front;
    front.wait = true;
    front.target_done = true;
    front.target_failed = true;
    front.answer = LMS_ANSWER_TARGET_ERROR_WINS;
    front.target_error = "[target error]";
    router.begin_answer(front);
    ASSERT_TRUE(router.replacing());
    const auto walk = [&](uint32_t msg_class, const std::string& bytes) {
      if (router.keep_answer_message(msg_class)) router.keep(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    };
    walk(LMS_MSG_OTHER, "[row]");
    if (source_failed) walk(LMS_MSG_ERROR, "[source error]");
    EXPECT_FALSE(router.take_replacement());  // not before the answer's end
    router.answered(front);
    walk(LMS_MSG_READY, "[ready]");
    const auto answer = router.take_replacement();
    ASSERT_TRUE(answer);
    EXPECT_EQ(*answer, source_failed ? "[source error][ready]" : "[target error][ready]");
    EXPECT_FALSE(router.replacing());
  }
  // A target that succeeded, or a mode where the source's answer wins, replaces nothing.
  ShadowRouter router = make_router();
  Request ok;
  ok.wait = true;
  ok.target_done = true;
  ok.answer = LMS_ANSWER_TARGET_ERROR_WINS;
  router.begin_answer(ok);
  EXPECT_FALSE(router.replacing());
  ok.target_failed = true;
  ok.answer = LMS_ANSWER_SOURCE;
  router.begin_answer(ok);
  EXPECT_FALSE(router.replacing());
}

TEST(ShadowRouter, CopyDataFollowsItsRequestAndANoAnswerMessageFollowsWhatIsStaged) {
  use_mode(1, 1);
  ShadowRouter router = make_router();
  RecordingTarget target;
  Request copy = query(router, target, 1, "COPY t FROM STDIN");
  ASSERT_TRUE(router.dispatch(copy));
  EXPECT_TRUE(router.copy_outside_request(LMS_MSG_COPY_DATA));
  router.copy(reinterpret_cast<const uint8_t*>("1\n"), 2);
  router.send_copied();
  EXPECT_EQ(target.received, "COPY t FROM STDIN|1\n");
  // Staged now: a message nothing answers lands behind the staged request, not before it.
  Request staged = query(router, target, 2, "UPDATE y");
  EXPECT_TRUE(router.copy_outside_request(LMS_MSG_NO_ANSWER));
  router.copy(reinterpret_cast<const uint8_t*>("[close]"), 7);
  router.send_copied();
  EXPECT_EQ(target.received, "COPY t FROM STDIN|1\n");
  router.dispatch(staged);
  EXPECT_EQ(target.received, "COPY t FROM STDIN|1\nUPDATE y|[close]");
  EXPECT_FALSE(router.copy_outside_request(LMS_MSG_TERMINATE));
}

TEST(ShadowRouter, ARequestStartedBehindAStagedOneStaysWholeWhenTheFrontIsDispatchedMidway) {
  use_mode(1, 1);
  ShadowRouter router = make_router();
  RecordingTarget target;
  Request front = query(router, target, 1, "UPDATE a");
  // An extended request the client need not wait for, pipelined behind it: Parse, then the source
  // begins answering the front request, then the request's Sync.
  use_mode(1, 0);
  const lms_frame parse = frame(LMS_MSG_PREPARE, 7);
  router.decide(parse, LMS_TXN_IDLE, LMS_EFFECT_PREPARE, "SELECT b");
  router.copy_request_message(parse);
  router.copy(reinterpret_cast<const uint8_t*>("[parse]"), 7);
  router.dispatch(front);
  EXPECT_EQ(target.received, "UPDATE a|");  // none of the next request before its turn
  const lms_frame sync = frame(LMS_MSG_SYNC, 6);
  router.copy_request_message(sync);
  Request next;
  next.id = 2;
  router.sent(next, 6);
  router.copy(reinterpret_cast<const uint8_t*>("[sync]"), 6);
  router.send_copied();
  EXPECT_TRUE(next.staged);
  EXPECT_EQ(target.received, "UPDATE a|");
  EXPECT_FALSE(router.dispatch(next));
  EXPECT_EQ(target.received, "UPDATE a|[parse][sync]|");
}

}  // namespace
}  // namespace lms::core
