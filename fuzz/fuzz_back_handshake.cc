// The database-facing handshake on arbitrary server bytes: a hostile or broken server must get a
// failure, never a crash or an endless wait on bytes it already sent.
#include <cstddef>
#include <cstdint>
#include <string>

#include "dialect.h"

namespace {
const lms_dialect_functions kDialect = lms::pgwire::make_dialect_functions(5432, lms::pgwire::Flavor::kPostgres);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string user = "alice", password = "pw", db = "shop";
  const lms_kv params[] = {{{"user", 4}, {user.data(), user.size()}},
                           {{"password", 8}, {password.data(), password.size()}},
                           {{"dbname", 6}, {db.data(), db.size()}}};
  void* back = kDialect.back_create(params, 3);
  lms_emitter sink{sizeof(lms_emitter), nullptr, [](void*, const uint8_t*, size_t) {}};
  kDialect.back_start(back, &sink);
  size_t at = 0;
  while (at < size) {
    size_t consumed = 0;
    lms_back_result result{};
    result.struct_size = sizeof result;
    const uint32_t status = kDialect.back_step(back, data + at, size - at, &consumed, &sink, &result);
    if (consumed > size - at) __builtin_trap();
    at += consumed;
    if (status != LMS_HS_NEED_INPUT || consumed == 0) break;
  }
  kDialect.back_destroy(back);
  return 0;
}
