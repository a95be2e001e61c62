// The control API's JSON bodies from hostile callers: whatever arrives at /v1/cutover/begin, or
// comes back from a proxy as a status, a cutover record or a connection list, is decoded into the
// model or refused with an exception, never a crash. What decodes encodes again and decodes to
// the same JSON.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>

#include "json.h"
#include "model.h"

namespace {

template <typename Model>
void round_trip(const nlohmann::json& j) {
  Model model;
  try {
    j.get_to(model);
  } catch (const std::exception&) {
    return;  // refused: the server answers 400 with the message
  }
  const nlohmann::json once = model;
  Model again;
  once.get_to(again);
  if (nlohmann::json(again) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  round_trip<lms::control::BeginOptions>(j);
  round_trip<lms::control::Cutover>(j);
  round_trip<lms::control::Status>(j);
  round_trip<lms::control::Connection>(j);
  if (j.is_array()) {
    for (const auto& element : j) round_trip<lms::control::Connection>(element);
  }
  return 0;
}
