#include "errors.h"

#include "wire.h"

namespace lms::pgwire {

std::vector<uint8_t> error_response(std::string_view severity, std::string_view code,
                                    std::string_view message) {
  MessageBuilder m;
  m.begin('E').u8('S').cstr(severity).u8('V').cstr(severity).u8('C').cstr(code).u8('M').cstr(message);
  m.u8(0).end();
  return m.take();
}

ServerError parse_error_fields(const uint8_t* body, size_t len) {
  ServerError e;
  BodyReader r(body, len);
  while (r.remaining() > 0) {
    std::string_view type;
    std::string_view value;
    if (!r.bytes(1, type) || type[0] == '\0' || !r.cstr(value)) break;
    switch (type[0]) {
      case 'S':
        if (e.severity.empty()) e.severity = value;
        break;
      case 'V':
        e.severity = value;
        break;
      case 'C':
        e.code = value;
        break;
      case 'M':
        e.message = value;
        break;
      default:
        break;
    }
  }
  return e;
}

}  // namespace lms::pgwire
