#include "connection_string.h"

#include <libpq-fe.h>

#include <memory>

namespace lms::pgwire {

std::string parse_connection_string(std::string_view text,
                                    const std::function<void(std::string_view, std::string_view)>& on_param) {
  std::string normalized(text);
  // The deployment documentation writes URLs as "...?sslmode=verify-full?sslrootcert=...": every
  // '?' after the first can only have meant '&', so accept what users copy from it.
  if (normalized.find("://") != std::string::npos) {
    const size_t query = normalized.find('?');
    if (query != std::string::npos) {
      for (size_t i = query + 1; i < normalized.size(); ++i) {
        if (normalized[i] == '?') normalized[i] = '&';
      }
    }
  }
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(normalized.c_str(), &error);
  if (options == nullptr) {
    std::string reason = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!reason.empty() && (reason.back() == '\n' || reason.back() == ' ')) reason.pop_back();
    return reason.empty() ? "invalid connection string" : reason;
  }
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> guard(options, PQconninfoFree);
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val != nullptr && o->val[0] != '\0') on_param(o->keyword, o->val);
  }
  return {};
}

}  // namespace lms::pgwire
