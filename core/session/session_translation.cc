// A session whose database speaks another protocol than its client (a MySQL client served by a
// CockroachDB target after a cutover): the database link carries a Translation, so the bytes the
// session writes to it are the client's and the bytes it reads from it are already in the
// client's protocol. From there on the session handles them as if the database spoke the
// client's protocol (framing, request tracking, shadowing, validation).
#include <spdlog/spdlog.h>

#include "session/session.h"

namespace lms::core {

std::vector<std::pair<std::string, std::string>> Session::prepared_statements() const {
  return carried_.prepared_statements();
}

void Session::start_translation() {
  auto translation =
      std::make_unique<Translation>(dialect_, back_dialect_, startup_params_, prepared_statements());
  if (!translation->valid()) {
    spdlog::error("session={} closed: the dialects could not make a translation", id_);
    close_now();
    return;
  }
  database_->translate(std::move(translation));
}

}  // namespace lms::core
