// Validation inside a session: each compared request gets a PendingComparison when it is sent;
// the source's answer is summarized as it streams to the client (on_database_message marks its
// messages for copying into the summarizer), the target's by the shadow link; whichever comes
// second has the worker's validator judge the pair.
#include <lms/plugin.h>

#include "session/session.h"

namespace lms::core {
namespace {

// A session keeps at most this many comparisons open. Only an async target that never answers
// leaves one behind (its link breaks at shadow-timeout and fails it), so this only bounds the
// worst case.
constexpr size_t kMaxOpenComparisons = 64;

std::string text_of(lms_str s) { return s.data == nullptr ? std::string() : std::string(s.data, s.len); }

}  // namespace

void Session::note_statement(const lms_message_detail& d) {
  switch (client_inspected_class_) {
    case LMS_MSG_QUERY:
      // The request was opened when the query's first bytes arrived; its text is whole now.
      // A whole request that runs a prepared statement (MySQL's COM_STMT_EXECUTE) is known by
      // the statement's text.
      if (!comparisons_.empty() && comparisons_.back().id + 1 == tracker_.next_id() &&
          comparisons_.back().statement.empty()) {
        comparisons_.back().statement = d.effect == LMS_EFFECT_BIND && d.name.len > 0
                                            ? std::string(prepared_text({d.name.data, d.name.len}))
                                            : text_of(d.text);
      }
      return;
    case LMS_MSG_PREPARE:
      // Into the buffers already there: every extended run of most drivers parses.
      request_statement_.assign(d.text.data == nullptr ? "" : d.text.data, d.text.len);
      if (d.name.len == 0) unnamed_statement_ = request_statement_;
      return;
    default:
      break;
  }
  if (d.effect != LMS_EFFECT_BIND) return;
  if (d.name.len == 0) {
    request_statement_ = unnamed_statement_;
    return;
  }
  request_statement_ = prepared_text({d.name.data, d.name.len});
}

std::string_view Session::prepared_text(std::string_view name) {
  const std::string* prepared = carried_.statement(std::string(name));
  if (prepared == nullptr) return {};
  // The statement's Parse (or SQL PREPARE) as the client sent it: its text is in the message.
  lms_message_detail parse{};
  parse.struct_size = sizeof parse;
  dialect_->inspect(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(prepared->data()), prepared->size(),
                    &parse);
  return {parse.text.data == nullptr ? "" : parse.text.data, parse.text.len};
}

std::string_view Session::statement_at_start(const lms_frame& first) {
  first_effect_ = LMS_EFFECT_NONE;
  if (!inspects_) return {};
  const auto [bytes, available] = client_scanner_.visible();
  if (available < first.length) return {};  // the rest comes in a later read
  lms_message_detail d{};
  d.struct_size = sizeof d;
  dialect_->inspect(LMS_FROM_CLIENT, bytes, static_cast<size_t>(first.length), &d);
  first_effect_ = d.effect;
  if (d.effect == LMS_EFFECT_BIND) {
    return d.name.len == 0 ? std::string_view(unnamed_statement_) : prepared_text({d.name.data, d.name.len});
  }
  if (first.msg_class == LMS_MSG_QUERY || first.msg_class == LMS_MSG_PREPARE) {
    return {d.text.data == nullptr ? "" : d.text.data, d.text.len};
  }
  return {};
}

void Session::open_comparison(uint64_t id) {
  if (!source_summary_) source_summary_ = std::make_unique<AnswerSummarizer>(dialect_, shared_.validation);
  if (comparisons_.size() >= kMaxOpenComparisons) comparisons_.pop_front();
  PendingComparison c;
  c.id = id;
  c.statement = request_statement_;
  comparisons_.push_back(std::move(c));
}

void Session::source_answered(const Request& done) {
  AnswerDigest answer = source_summary_->take(worker_.now_ns() - done.sent_ns);
  for (auto it = comparisons_.begin(); it != comparisons_.end(); ++it) {
    if (it->id != done.id) continue;
    it->source = std::move(answer);
    judge_if_complete(it);
    return;
  }
}

void Session::target_answered(uint64_t id, AnswerDigest* answer) {
  for (auto it = comparisons_.begin(); it != comparisons_.end(); ++it) {
    if (it->id != id) continue;
    it->target = std::move(*answer);
    judge_if_complete(it);
    return;
  }
}

void Session::judge_if_complete(std::deque<PendingComparison>::iterator it) {
  if (!it->source || !it->target) return;
  worker_.validator().judge(*it, id_);
  comparisons_.erase(it);
}

}  // namespace lms::core
