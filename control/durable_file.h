// Replacing a small file so that a crash leaves either the old contents or the new, never a mix:
// written beside it, synced, renamed over it, and the directory synced. For state that a restart
// must find as it was last decided (the orchestrator's history, a proxy's source of truth).
#pragma once

#include <string>

namespace lms::control {

bool replace_file_durably(const std::string& path, const std::string& contents, std::string* error);

}  // namespace lms::control
