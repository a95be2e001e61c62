// A session whose database speaks another protocol than its client (a MySQL client served by a
// CockroachDB target after a cutover): the bytes the session forwards to database_ are the client's
// and pass through the Translation on their way out; the database's bytes pass through it on
// their way in, and from there on the session handles them as if the database spoke the client's
// protocol (framing, request tracking, shadowing, validation).
#include <spdlog/spdlog.h>

#include <cstring>

#include "session.h"

namespace lms::core {

std::vector<std::pair<std::string, std::string>> Session::prepared_statements() const {
  return carried_.prepared_statements();
}

void Session::start_translation() {
  translation_ =
      std::make_unique<Translation>(dialect_, back_dialect_, startup_params_, prepared_statements());
  translated_in_.clear();
  translated_at_ = 0;
  if (!translation_->valid()) {
    spdlog::error("session={} closed: the dialects could not make a translation", id_);
    translation_.reset();
    close_now();
  }
}

void Session::translate_to_database(Chunk* chunk) {
  std::string_view out;
  std::string error;
  const bool ok = translation_->to_database(chunk->data, chunk->len, &out, &error);
  worker_.pool().put(chunk);
  if (!ok) {
    protocol_error(true, error.c_str());
    return;
  }
  for (size_t at = 0; at < out.size();) {
    Chunk* piece = worker_.pool().get();
    const size_t n = std::min(Chunk::kCapacity, out.size() - at);
    std::memcpy(piece->data, out.data() + at, n);
    piece->len = n;
    database_.write(piece);
    at += n;
  }
}

void Session::translate_from_database(const uint8_t* data, size_t len) {
  if (translated_at_ == translated_in_.size()) {
    translated_in_.clear();
    translated_at_ = 0;
  }
  std::string error;
  if (!translation_->to_client(data, len, &translated_in_, &error)) {
    protocol_error(false, error.c_str());
    return;
  }
  deliver_translated();
}

void Session::deliver_translated() {
  if (delivering_) return;  // the loop below is already handing them on
  delivering_ = true;
  // As with TLS: the session may stop reading after any chunk, and the rest waits here until it
  // reads again, as unread bytes wait in the socket.
  while (database_.reading() && translated_at_ < translated_in_.size() && phase_ != Phase::kClosing &&
         translation_) {
    Chunk* chunk = worker_.pool().get();
    const size_t n = std::min(Chunk::kCapacity, translated_in_.size() - translated_at_);
    std::memcpy(chunk->data, translated_in_.data() + translated_at_, n);
    translated_at_ += n;
    take_database_bytes(chunk, n);
  }
  delivering_ = false;
}

}  // namespace lms::core
