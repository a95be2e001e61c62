// Where the orchestrator writes its cutover history down: one JSON file in --state-dir, replaced
// durably (control/durable_file.h), so that a crash leaves either the old history or the new one.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "attempt.h"

namespace lms::orchestrator {

class StateStore {
 public:
  explicit StateStore(std::string dir);
  // Reads the history; false with *error when the file exists but cannot be read.
  bool load(std::vector<Attempt>* attempts, std::string* error);
  // Writes the whole history; false with *error when it could not be made durable.
  bool save(const std::vector<Attempt>& attempts, std::string* error);
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

}  // namespace lms::orchestrator
