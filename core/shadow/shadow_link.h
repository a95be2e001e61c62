// One session's connection to the target (the database that is not the source of truth): opened
// when the shadow plugin first sends it a request, authenticated with the target's own connection
// string and the client's startup parameters, fed copies of the client's messages, and read for
// the answers, which it matches to requests in order. It never slows the source: what it cannot
// send at once it queues up to buffer-limit, and past that, or when the target dies or misses a
// deadline, it breaks and fails every request still waiting on it.
//
// Runs on its session's loop. Its handles are counted by its owner, which is not destroyed before
// they have closed.
#pragma once

#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loop/chunk_pool.h"
#include "frame_scanner.h"
#include "db/database_link.h"
#include "tls_channel.h"
#include "tls_context.h"
#include "translation.h"
#include "session/shadow_router.h"
#include "validation.h"
#include "loop/worker.h"

namespace lms::core {

class ShadowLinkOwner {
 public:
  // The target finished request `id`. `error` holds an error message for the client, in the
  // client's protocol, when the target failed it (its own ErrorResponse, or one LMS made when the
  // target died or missed the deadline); empty when it succeeded. `answer`: the summary of what
  // the target answered, for a request expected with `compare`; else null.
  virtual void on_target_answered(uint64_t id, bool ok, const std::string& error, AnswerDigest* answer) = 0;
  virtual void on_link_handle_opened() = 0;
  virtual void on_link_handle_closed() = 0;

 protected:
  ~ShadowLinkOwner() = default;
};

class ShadowLink final : public ShadowTarget, private DatabaseLink::Listener {
 public:
  // The id of an answer the link expects for itself (a replayed setting): it matches no request.
  static constexpr uint64_t kNoRequest = 0;
  // `role`: which configured database the link shadows to (the one that is not the source of
  // truth when the session made it). `statements`: what the client prepared so far, for a target
  // of another protocol (see Translation).
  // `credentials`: the client's own login's (see Session), for a target of the same protocol.
  ShadowLink(ShadowLinkOwner& owner, Worker& worker, std::vector<std::pair<std::string, std::string>> startup,
             std::vector<std::pair<std::string, std::string>> credentials, uint64_t session_id, uint8_t role,
             const std::vector<std::pair<std::string, std::string>>& statements = {});
  ~ShadowLink();
  ShadowLink(const ShadowLink&) = delete;
  ShadowLink& operator=(const ShadowLink&) = delete;

  // Closed, and nothing of it is still open or in flight: its owner may free it.
  bool gone() const { return closed_ && !database_.in_use() && !timer_open_; }
  // False once broken: requests are no longer sent.
  bool available() const override { return state_ != State::kBroken; }
  // Once broken: the error a request that needed the target gets, in the client's protocol.
  const std::string& failure() const override { return failure_; }
  // Requests sent whose answer has not come, but for those that only keep session state in step
  // (a SET, a replayed statement): they are too small to make the target count as busy.
  size_t outstanding() const override { return busy_; }
  // Queues client bytes for the target.
  void send(const uint8_t* data, size_t len) override;
  // Runs whole client messages that set up session state (SET, Parse, PREPARE), each as a request
  // of its own whose answer nobody waits for.
  void replay(const std::vector<std::string>& messages);
  // The bytes sent so far end a request that the target will answer. `waited`: the client's
  // answer waits for it, so it runs against the deadline. `compare`: its answer is summarized.
  // `keeps_state`: it only defines or keeps session state, too little to make the target busy.
  void expect_answer(uint64_t id, bool waited, bool compare, bool keeps_state) override;
  // The source named a statement the client prepared (its id, MySQL): a translating link learns
  // it, since the target's own answer named it otherwise.
  void learn_statement(const std::string& name, const std::string& message) {
    if (database_.translation() != nullptr) database_.translation()->learn(name, message);
  }
  // Stops shadowing this session: pending requests fail with `message`.
  void abandon(const std::string& reason, const std::string& message) override { fail(reason, message, "54000"); }
  // The client is gone: what was sent still runs on the target (so short sessions are shadowed
  // too), then the link closes, at the latest at shadow-timeout.
  void finish();
  // Closes the connection now. Idempotent.
  void close();

 private:
  enum class State { kConnecting, kReady, kBroken };  // kConnecting: connecting and logging in
  struct Pending {
    uint64_t id;
    bool waited;
    bool compare;
    bool keeps_state;
    uint64_t sent_ns;
  };

  static void on_deadline(uv_timer_t* timer);
  static void on_closed(uv_handle_t* handle);

  void connect();
  // The target's answers in the client's protocol (translated, when the target speaks another).
  void take_answer(const uint8_t* data, size_t len);
  // The front request's answer is complete: its owner hears of it.
  void finish_answer();
  // Client bytes once the target is ready: framed, translated where needed, written.
  void deliver(const uint8_t* data, size_t len);
  void arm_deadline();
  // Breaks the link: every pending request fails with `message` (SQLSTATE `code`).
  void fail(const std::string& reason, const std::string& message, const char* code);
  void close_handles();
  std::string client_error(const std::string& message, const char* code) const;

  // DatabaseLink::Listener: the connection to the database shadowed to.
  void on_database_ready(const DatabaseLink::Login& login) override;
  void on_database_login_failed(const DatabaseLink::LoginFailure& failure) override;
  void on_database_bytes(Chunk* chunk, size_t len) override;
  void on_database_lost(int status) override;
  void on_database_write_failed(int status) override;
  void on_database_tls_failed(const std::string& error) override;
  void on_database_untranslatable(bool from_client, const std::string& error) override;
  void on_database_closed() override { owner_.on_link_handle_closed(); }

  ShadowLinkOwner& owner_;
  Worker& worker_;
  ProxyShared& shared_;
  const Endpoint& target_;                // the database shadowed to
  const lms_dialect_functions* dialect_;  // its dialect
  // The protocol its answers are read in: the clients', when the link translates.
  const lms_dialect_functions* answer_dialect_;
  uint64_t session_id_;
  State state_ = State::kConnecting;
  std::vector<std::pair<std::string, std::string>> startup_;
  std::vector<std::pair<std::string, std::string>> credentials_;  // the client's login's, never logged

  // What the link cannot send at once it queues up to buffer-limit; past that it breaks.
  DatabaseLink database_;
  uv_timer_t deadline_{};
  bool timer_open_ = false;
  bool closed_ = false;
  bool draining_ = false;

  std::string before_ready_;  // client bytes sent before the handshake finished

  FrameScanner scanner_;
  // Protocols delimited by a framer (MySQL): one for this link's pair of streams, fed what the
  // link sends as well as what it reads.
  void* framer_ = nullptr;
  FrameScanner sent_scanner_;
  std::deque<Pending> pending_;
  size_t busy_ = 0;               // pending requests that do more than keep state in step
  std::string error_;             // the first error of the request being answered
  bool oversized_error_ = false;  // it was too large to keep
  bool answer_ends_ = false;      // the answer ends with the message being copied (MySQL's ERR)
  std::unique_ptr<AnswerSummarizer> summary_;  // made when a first answer is to be compared
  std::string failure_;
};

}  // namespace lms::core
