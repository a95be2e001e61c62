// Both sides of a translation, and the MySQL summarizer, on arbitrary input. Mode 0: arbitrary client bytes
// through the MySQL translator, read by read. Mode 1: one MySQL command (chosen by the input) and then
// arbitrary PostgreSQL server bytes through the decoder, whose events the translator encodes: whatever the
// server sends, what reaches the client must be packets the MySQL framer delimits, never garbage.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "../plugins/dialect/pgwire/translate.h"
#include "framing.h"
#include "summary.h"
#include "translate.h"
#include "wire.h"

namespace {

std::string packet(std::string_view payload) {
  std::string out;
  lms::mysql::append_packets(out, payload, 0);
  return out;
}

const lms_kv kParams[] = {{{"capabilities", 12}, {"16777216", 8}}, {{"charset", 7}, {"45", 2}}};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Deprecate-EOF on or off (the first parameter's value; 0 means neither flag).
  const lms_kv params[] = {{{"capabilities", 12}, {data[0] & 2 ? "16777728" : "512", data[0] & 2 ? 8u : 3u}},
                           kParams[1]};
  lms::mysql::Translator translator(params, 2, nullptr, 0);
  lms_request request{};
  request.struct_size = sizeof request;
  if ((data[0] & 1) == 0) {
    size_t at = 1;
    while (at < size) {
      const size_t n = 1 + data[at] % 64 < size - at ? 1 + data[at] % 64 : size - at;
      translator.feed(data + at, n);
      at += n;
      while (translator.next(&request) == LMS_FRAME_COMPLETE) {
      }
    }
    return 0;
  }
  // A command the answer is for.
  std::string command;
  switch (data[1] % 3) {
    case 0:
      command = packet("\x03SELECT 1; SELECT 2");
      break;
    case 1:
      command = packet("\x16SELECT ? FROM t WHERE a = ?");
      break;
    default:
      command = packet("\x16SELECT 1") + packet(std::string("\x17\x01\x00\x00\x00\x00\x01\x00\x00\x00", 10));
      break;
  }
  translator.feed(reinterpret_cast<const uint8_t*>(command.data()), command.size());
  while (translator.next(&request) == LMS_FRAME_COMPLETE) {
  }
  lms::pgwire::AnswerDecoder decoder;
  decoder.feed(data + 2, size - 2);
  std::string out;
  const lms_emitter collect{sizeof(lms_emitter), &out, [](void* ctx, const uint8_t* d, size_t n) {
                              static_cast<std::string*>(ctx)->append(reinterpret_cast<const char*>(d), n);
                            }};
  lms_answer answer{};
  answer.struct_size = sizeof answer;
  while (decoder.next(&answer) == LMS_FRAME_COMPLETE) {
    translator.answer(answer, &collect);
    answer = lms_answer{};
    answer.struct_size = sizeof answer;
  }
  // The summarizer reads what the client gets, in pieces the input chooses.
  lms::mysql::ResultSummarizer summary(nullptr, 0);
  const size_t piece = 1 + data[1] % 17;
  for (size_t at = 0; at < out.size(); at += piece) {
    summary.feed(reinterpret_cast<const uint8_t*>(out.data()) + at, std::min(piece, out.size() - at));
  }
  lms_result_summary digest{};
  digest.struct_size = sizeof digest;
  summary.get(&digest);
  lms::mysql::Framer framer(data[0] & 2 ? lms::mysql::kDeprecateEof | lms::mysql::kProtocol41
                                        : lms::mysql::kProtocol41);
  lms_frame f{};
  f.struct_size = sizeof f;
  for (size_t at = 0; at < command.size(); at += f.length) {
    framer.next(LMS_FROM_CLIENT, reinterpret_cast<const uint8_t*>(command.data()) + at, command.size() - at,
                &f);
    if (f.result != LMS_FRAME_COMPLETE) __builtin_trap();
  }
  for (size_t at = 0; at < out.size(); at += f.length) {
    framer.next(LMS_FROM_SERVER, reinterpret_cast<const uint8_t*>(out.data()) + at, out.size() - at, &f);
    if (f.result != LMS_FRAME_COMPLETE) __builtin_trap();  // the translation sent what no server may
  }
  return 0;
}
