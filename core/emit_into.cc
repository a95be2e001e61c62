#include "emit_into.h"

#include <algorithm>
#include <string_view>

#include "plugin_loader.h"

namespace lms::core {

void shape_statement(const lms_dialect_functions* dialect, lms_str text, size_t max_bytes, std::string* out) {
  const size_t len = std::min(text.len, max_bytes);
  if (!has_normalize(dialect)) {
    const std::string_view whole(text.data, len);
    out->assign(whole.substr(0, std::min(whole.find_first_of(" \t\r\n("), whole.size())));
    return;
  }
  out->clear();
  const lms_emitter collect = emit_into(out);
  // Only the start is shown: the rest is not worth normalizing.
  dialect->normalize(text.data, std::min(text.len, 2 * max_bytes), &collect);
  if (out->size() > max_bytes) out->resize(max_bytes);
}

}  // namespace lms::core
