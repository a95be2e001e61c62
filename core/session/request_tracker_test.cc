// The tracker over the PostgreSQL dialect's real framing, on byte vectors: what the client sends
// (simple queries, an extended-protocol pipeline, COPY data, a Terminate) and what the database
// answers (rows, errors, ReadyForQuery with each transaction state, a notification nobody asked
// for), read whole and split at every byte. What it must get right is what a cutover and the
// shadow router rely on: which request an answer completes, in order, and when the session is idle.
#include "session/request_tracker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "frame_scanner.h"
#include "testing/pg_messages.h"

namespace lms::core {
namespace {

using namespace std::string_literals;

std::string message(char type, const std::string& body) { return pgtest::pg_message(type, body); }
using pgtest::postgres;

const std::string kQuery = message('Q', "SELECT 1\0"s);
const std::string kBegin = message('Q', "BEGIN\0"s);
const std::string kParse = message('P', "s1\0SELECT $1\0\0\0"s);
const std::string kBind = message('B', "\0s1\0\0\0\0\0\0\0"s);
const std::string kExecute = message('E', "\0\0\0\0\0"s);
const std::string kSync = message('S', "");
const std::string kTerminate = message('X', "");
const std::string kCopyData = message('d', "1\t2\n");

const std::string kRows = message('T', std::string(6, '\0')) + message('D', std::string(2, '\0')) +
                          message('C', "SELECT 1\0"s);
const std::string kError = message('E', "SERROR\0C42P01\0Mno such table\0\0"s);
std::string ready(char state) { return message('Z', std::string(1, state)); }

// Feeds one direction's bytes to the tracker in reads of `piece` bytes, as a session's scanner
// would; returns what the tracker said of each message.
struct Fed {
  std::vector<RequestTracker::ClientMessage> client;  // per client message
  std::vector<uint64_t> completed;                    // ids, in the order their answers ended
};

void feed(RequestTracker& tracker, lms_direction direction, const std::string& bytes, size_t piece, Fed* out,
          uint64_t now_ns = 0) {
  FrameScanner scanner(&postgres(), direction);
  for (size_t at = 0; at < bytes.size(); at += piece) {
    const size_t n = std::min(piece, bytes.size() - at);
    const auto walked = scanner.walk(
        reinterpret_cast<const uint8_t*>(bytes.data() + at), n,
        [&](const lms_frame& f) -> unsigned {
          if (direction == LMS_FROM_CLIENT) {
            const auto step = tracker.on_client_message(f);
            out->client.push_back(step);
            if (step != RequestTracker::ClientMessage::kOutside && RequestTracker::ends_request(f)) {
              tracker.send(now_ns);
            }
          } else if (const auto done = tracker.on_database_message(f)) {
            out->completed.push_back(done->id);
          }
          return kPass;
        },
        [](const uint8_t*, size_t) {});
    ASSERT_TRUE(walked) << scanner.error();
  }
}

using CM = RequestTracker::ClientMessage;

TEST(RequestTracker, ASimpleQueryIsOneRequestAnsweredAtReadyForQuery) {
  RequestTracker tracker;
  Fed fed;
  feed(tracker, LMS_FROM_CLIENT, kQuery, 1 << 16, &fed, 42);
  EXPECT_EQ(fed.client, std::vector<CM>{CM::kStarts});
  ASSERT_EQ(tracker.in_flight().size(), 1u);
  EXPECT_EQ(tracker.oldest()->id, 1u);
  EXPECT_EQ(tracker.oldest()->sent_ns, 42u);
  EXPECT_FALSE(tracker.sending());
  EXPECT_FALSE(tracker.idle());

  feed(tracker, LMS_FROM_SERVER, kRows, 1 << 16, &fed);
  EXPECT_TRUE(tracker.answer_started());
  EXPECT_TRUE(fed.completed.empty());  // rows are not the end
  feed(tracker, LMS_FROM_SERVER, ready('I'), 1 << 16, &fed);
  EXPECT_EQ(fed.completed, std::vector<uint64_t>{1});
  EXPECT_FALSE(tracker.answer_started());
  EXPECT_TRUE(tracker.idle());
  EXPECT_EQ(tracker.next_id(), 2u);
}

TEST(RequestTracker, APipelineOfExtendedRequestsIsAnsweredInOrder) {
  RequestTracker tracker;
  Fed fed;
  // Parse, Bind, Execute, Sync; then Bind, Execute, Sync, sent before any answer.
  const std::string pipeline = kParse + kBind + kExecute + kSync + kBind + kExecute + kSync;
  feed(tracker, LMS_FROM_CLIENT, pipeline.substr(0, kParse.size() + kBind.size()), 1 << 16, &fed);
  EXPECT_TRUE(tracker.sending());  // a request's messages, its Sync not yet sent
  EXPECT_TRUE(tracker.in_flight().empty());
  EXPECT_FALSE(tracker.idle());
  feed(tracker, LMS_FROM_CLIENT, pipeline.substr(kParse.size() + kBind.size()), 1 << 16, &fed);
  EXPECT_EQ(fed.client,
            (std::vector<CM>{CM::kStarts, CM::kContinues, CM::kContinues, CM::kContinues, CM::kStarts,
                             CM::kContinues, CM::kContinues}));
  ASSERT_EQ(tracker.in_flight().size(), 2u);
  ASSERT_NE(tracker.find(2), nullptr);
  EXPECT_EQ(tracker.find(3), nullptr);

  const std::string answers = message('1', "") + message('2', "") + kRows.substr(kRows.find('D')) + ready('I') +
                              message('2', "") + kRows.substr(kRows.find('D')) + ready('I');
  feed(tracker, LMS_FROM_SERVER, answers, 1 << 16, &fed);
  EXPECT_EQ(fed.completed, (std::vector<uint64_t>{1, 2}));
  EXPECT_TRUE(tracker.idle());
}

TEST(RequestTracker, AnOpenTransactionIsNotIdleWithNothingInFlight) {
  RequestTracker tracker;
  Fed fed;
  feed(tracker, LMS_FROM_CLIENT, kBegin, 1 << 16, &fed);
  feed(tracker, LMS_FROM_SERVER, message('C', "BEGIN\0"s) + ready('T'), 1 << 16, &fed);
  EXPECT_TRUE(tracker.in_flight().empty());
  EXPECT_EQ(tracker.txn_state(), static_cast<uint32_t>(LMS_TXN_IN_TRANSACTION));
  EXPECT_FALSE(tracker.idle());  // a cutover may not move this session now

  feed(tracker, LMS_FROM_CLIENT, kQuery, 1 << 16, &fed);
  feed(tracker, LMS_FROM_SERVER, kError + ready('E'), 1 << 16, &fed);
  EXPECT_EQ(tracker.txn_state(), static_cast<uint32_t>(LMS_TXN_FAILED));
  EXPECT_FALSE(tracker.idle());

  feed(tracker, LMS_FROM_CLIENT, message('Q', "ROLLBACK\0"s), 1 << 16, &fed);
  feed(tracker, LMS_FROM_SERVER, message('C', "ROLLBACK\0"s) + ready('I'), 1 << 16, &fed);
  EXPECT_EQ(fed.completed, (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_TRUE(tracker.idle());
}

TEST(RequestTracker, AnErrorIsTheLastMessageOnlyUntilTheNextOne) {
  RequestTracker tracker;
  Fed fed;
  feed(tracker, LMS_FROM_CLIENT, kQuery, 1 << 16, &fed);
  feed(tracker, LMS_FROM_SERVER, kError, 1 << 16, &fed);
  EXPECT_TRUE(tracker.last_failed());  // a connection lost now: the client already knows why
  feed(tracker, LMS_FROM_SERVER, ready('I'), 1 << 16, &fed);
  EXPECT_FALSE(tracker.last_failed());
}

TEST(RequestTracker, TerminateAndCopyDataOpenNoRequest) {
  RequestTracker tracker;
  Fed fed;
  feed(tracker, LMS_FROM_CLIENT, kCopyData + kCopyData + kTerminate, 1 << 16, &fed);
  EXPECT_EQ(fed.client, (std::vector<CM>{CM::kOutside, CM::kOutside, CM::kOutside}));
  EXPECT_TRUE(tracker.idle());
  EXPECT_EQ(tracker.next_id(), 1u);
}

TEST(RequestTracker, WhatTheDatabaseSendsUnaskedCompletesNothing) {
  RequestTracker tracker;
  Fed fed;
  // A notification, then a ReadyForQuery for an answer lms asked for itself (a replayed setting).
  feed(tracker, LMS_FROM_SERVER, message('A', "\0\0\0\x07" "ch\0payload\0"s) + ready('I'), 1 << 16, &fed);
  EXPECT_TRUE(fed.completed.empty());
  EXPECT_FALSE(tracker.answer_started());
  EXPECT_TRUE(tracker.idle());
}

TEST(RequestTracker, SplitAtEveryByteCompletesTheSame) {
  const std::string client = kQuery + kParse + kBind + kExecute + kSync + kBegin;
  const std::string server = kRows + ready('I') + message('1', "") + message('2', "") + ready('I') +
                             message('C', "BEGIN\0"s) + ready('T');
  for (size_t piece = 1; piece <= server.size(); ++piece) {
    RequestTracker tracker;
    Fed fed;
    feed(tracker, LMS_FROM_CLIENT, client, piece, &fed);
    feed(tracker, LMS_FROM_SERVER, server, piece, &fed);
    EXPECT_EQ(fed.completed, (std::vector<uint64_t>{1, 2, 3})) << piece;
    EXPECT_EQ(tracker.txn_state(), static_cast<uint32_t>(LMS_TXN_IN_TRANSACTION)) << piece;
    EXPECT_TRUE(tracker.in_flight().empty()) << piece;
  }
}

// The requests in flight keep their order as the ring wraps around and grows with some in it; a
// slot used again starts fresh.
TEST(RingQueue, KeepsOrderAcrossWrapAndGrowth) {
  RingQueue<Request> ring;
  uint64_t next = 1;
  uint64_t expected = 1;
  auto push = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      Request& r = ring.emplace_back();
      EXPECT_EQ(r.id, 0u);
      EXPECT_TRUE(r.unnamed_prepare.empty());
      r.id = next++;
      r.unnamed_prepare = std::string(40, 'x');  // on the heap: moved out when popped
    }
  };
  auto pop = [&](size_t n) {
    for (size_t i = 0; i < n; ++i) {
      ASSERT_FALSE(ring.empty());
      EXPECT_EQ(ring.front().id, expected++);
      const Request taken(std::move(ring.front()));
      EXPECT_EQ(taken.unnamed_prepare.size(), 40u);
      ring.pop_front();
    }
  };
  push(3);
  pop(2);
  push(3);  // wraps around the first four slots
  EXPECT_EQ(ring.size(), 4u);
  push(5);  // grows with the front in the middle of the ring
  EXPECT_EQ(ring.back().id, next - 1);
  std::vector<uint64_t> seen;
  for (const Request& r : ring) seen.push_back(r.id);
  std::vector<uint64_t> want;
  for (uint64_t id = expected; id < next; ++id) want.push_back(id);
  EXPECT_EQ(seen, want);
  pop(9);
  EXPECT_TRUE(ring.empty());
  for (int round = 0; round < 100; ++round) {
    push(2);
    pop(2);
  }
  EXPECT_TRUE(ring.empty());
}

}  // namespace
}  // namespace lms::core
