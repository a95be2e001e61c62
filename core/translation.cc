#include "translation.h"

#include "emit_into.h"

namespace lms::core {
namespace {

std::vector<lms_kv> kvs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<lms_kv> out;
  out.reserve(pairs.size());
  for (const auto& [k, v] : pairs) out.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  return out;
}

}  // namespace

Translation::Translation(const lms_dialect_functions* client, const lms_dialect_functions* database,
                         const std::vector<std::pair<std::string, std::string>>& startup,
                         const std::vector<std::pair<std::string, std::string>>& statements)
    : client_(client), database_(database) {
  const std::vector<lms_kv> params = kvs(startup);
  const std::vector<lms_kv> prepared = kvs(statements);
  translator_ = client_->translator_create(params.data(), params.size(), prepared.data(), prepared.size());
  decoder_ = database_->decoder_create();
}

Translation::~Translation() {
  if (translator_ != nullptr) client_->translator_destroy(translator_);
  if (decoder_ != nullptr) database_->decoder_destroy(decoder_);
}

bool Translation::to_database(const uint8_t* data, size_t len, std::string_view* out, std::string* error) {
  client_->translator_feed(translator_, data, len);
  to_database_.clear();
  *out = {};
  const lms_emitter collect = emit_into(&to_database_);
  while (true) {
    lms_request request{};
    request.struct_size = sizeof request;
    const uint32_t result = client_->translator_next(translator_, &request);
    if (result == LMS_FRAME_NEED_MORE) {
      *out = to_database_;
      return true;
    }
    if (result != LMS_FRAME_COMPLETE) {
      *error = std::string(request.text.data, request.text.len);
      return false;
    }
    if (request.kind != LMS_REQ_NONE) database_->encode_translated(&request, &collect);
  }
}

bool Translation::to_client(const uint8_t* data, size_t len, std::string* out, std::string* error) {
  database_->decoder_feed(decoder_, data, len);
  const lms_emitter collect = emit_into(out);
  while (true) {
    lms_answer answer{};
    answer.struct_size = sizeof answer;
    const uint32_t result = database_->decoder_next(decoder_, &answer);
    if (result == LMS_FRAME_NEED_MORE) return true;
    if (result != LMS_FRAME_COMPLETE) {
      *error = std::string(answer.message.data, answer.message.len);
      return false;
    }
    client_->translator_answer(translator_, &answer, &collect);
  }
}

std::vector<std::pair<std::string, std::string>> translated_startup(
    const std::vector<std::pair<std::string, std::string>>& startup) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [k, v] : startup) {
    if (k == "database") out.emplace_back(k, v);
  }
  return out;
}

}  // namespace lms::core
