// A login again within the session (LMS_MSG_CHANGE_USER: MySQL's COM_CHANGE_USER, which connector
// pools send to reset a connection and test harnesses to switch users). The proxy authenticates
// the client as at login, with a front made afresh from the current settings; then the database
// connection is replaced by one logged in as that user (what the server itself does: the session's
// state starts over), and the client gets its OK. A failed authentication leaves the session as
// it was, as the server does.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "loop/worker.h"
#include "plugin_loader.h"
#include "session.h"

namespace lms::core {

unsigned Session::on_change_user_message(const lms_frame& f) {
  // The whole message is the front's: collected, never sent to the database.
  change_user_left_ = f.length;
  change_user_message_.clear();
  change_user_collecting_ = true;
  return kCopy | kStopAfter;
}

size_t Session::take_change_user_bytes(const uint8_t* data, size_t n) {
  const size_t take = std::min(n, change_user_left_);
  change_user_message_.append(reinterpret_cast<const char*>(data), take);
  change_user_left_ -= take;
  return take;
}

void Session::after_change_user_walk(Chunk* chunk, size_t len, size_t walked, size_t taken) {
  // What the client sent before the command goes on as usual (a client waits for each answer, so
  // there is nothing); what it sent after waits for the login to be done.
  const size_t start = walked >= taken ? walked - taken : 0;
  if (start > 0) database_->write_copy(chunk->data, start);
  front_in_.append(reinterpret_cast<const char*>(chunk->data + walked), len - walked);
  worker_.pool().put(chunk);
  if (change_user_left_ > 0) return;  // the rest of the command comes in the next reads
  change_user_collecting_ = false;
  if (!tracker_.idle()) {
    protocol_error(true, "COM_CHANGE_USER while a request was in flight");
    return;
  }
  const std::shared_ptr<const FrontSettings> settings = shared_.front_settings.load();
  front_ = dialect_->front_create(settings->kvs().data(), settings->kvs().size());
  if (front_ == nullptr) {
    close_now();
    return;
  }
  std::vector<lms_kv> session;
  for (const auto& [k, v] : startup_params_) session.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  lms_front_result result{};
  result.struct_size = sizeof result;
  phase_ = Phase::kChangingUser;
  const uint32_t status = dialect_->front_change_user(
      front_, session.data(), session.size(), reinterpret_cast<const uint8_t*>(change_user_message_.data()),
      change_user_message_.size(), &to_client_, &result);
  change_user_message_.clear();
  on_change_user_step(status, result);
}

void Session::run_change_user() {
  size_t consumed = 0;
  lms_front_result result{};
  result.struct_size = sizeof result;
  const uint32_t status = dialect_->front_step(front_, reinterpret_cast<const uint8_t*>(front_in_.data()),
                                               front_in_.size(), &consumed, &to_client_, &result);
  front_in_.erase(0, consumed);
  on_change_user_step(status, result);
}

void Session::on_change_user_step(uint32_t status, const lms_front_result& result) {
  if (status == LMS_HS_NEED_INPUT) return;
  if (status != LMS_HS_DONE) {
    // The client was told; the session goes on as the user it was.
    worker_.mutable_metrics().client_auth_failures.add();
    spdlog::info("session={} change of user refused: {}", id_, result.error != nullptr ? result.error : "");
    dialect_->front_destroy(front_);
    front_ = nullptr;
    phase_ = Phase::kForwarding;
    deliver_early_client_bytes();
    return;
  }
  // The new login: its user, database and credentials, and none of the old session's state.
  startup_params_.clear();
  credentials_.clear();
  target_password_.clear();
  take_login(result);
  carried_.clear();
  last_query_.clear();
  last_error_.clear();
  spdlog::debug("session={} changes user to {}", id_, client_user_);
  changing_user_ = true;
  phase_ = Phase::kForwarding;  // begin_switch takes it from here
  begin_switch();
}

void Session::finish_change_user() {
  changing_user_ = false;
  // The new database's welcome is the front's to say: MySQL's answer to COM_CHANGE_USER is an OK.
  dialect_->front_finish(front_, nullptr, 0, reinterpret_cast<const uint8_t*>(proxy_cancel_key_.data()),
                         proxy_cancel_key_.size(), &to_client_);
  dialect_->front_destroy(front_);
  front_ = nullptr;
  deliver_early_client_bytes();
}

}  // namespace lms::core
