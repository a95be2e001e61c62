// The result summarizer and the statement normalizer on arbitrary bytes: a server answer fed in
// pieces whose sizes come from the input itself, then the same bytes as SQL text. Neither may read
// out of bounds, grow without bound, or return a summary pointing outside its own storage.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "normalize.h"
#include "summary.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t piece = 1 + data[0] % 17;
  const lms_str ignored[] = {{"b", 1}};
  lms::pgwire::ResultSummarizer s(ignored, 1);
  for (size_t at = 1; at < size; at += piece) s.feed(data + at, std::min(piece, size - at));
  lms_result_summary out{};
  out.struct_size = sizeof out;
  s.get(&out);
  if (out.column_count > 0 && out.columns == nullptr) std::abort();
  (void)lms::pgwire::normalize_sql(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
