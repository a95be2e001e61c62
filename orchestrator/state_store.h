// Where the orchestrator writes its cutover history down, before it acts on a decision. Two kinds:
// a JSON file in --state-dir, replaced durably (control/durable_file.h), so that a crash leaves
// either the old history or the new one; or, with CRDB_URL, a table of the target database, so
// the history survives the orchestrator's pod and disk.
#pragma once

#include <string>
#include <vector>

#include "attempt.h"

namespace lms::orchestrator {

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Reads the history; false with *error when it exists but cannot be read.
  virtual bool load(std::vector<Attempt>* attempts, std::string* error) = 0;
  // Writes the whole history; false with *error when it could not be made durable.
  virtual bool save(const std::vector<Attempt>& attempts, std::string* error) = 0;
  // Where, for people ("/var/lib/x/cutover-state.json", "table lms_orchestrator_history at ...").
  virtual std::string describe() const = 0;
};

class FileStateStore final : public StateStore {
 public:
  explicit FileStateStore(std::string dir);
  bool load(std::vector<Attempt>* attempts, std::string* error) override;
  bool save(const std::vector<Attempt>& attempts, std::string* error) override;
  std::string describe() const override { return path_; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

// The history in table lms_orchestrator_history (created if missing) of the database `url` names,
// through libpq: one row per attempt, its JSON in a TEXT column, written in one transaction.
class DatabaseStateStore final : public StateStore {
 public:
  explicit DatabaseStateStore(std::string url);
  bool load(std::vector<Attempt>* attempts, std::string* error) override;
  bool save(const std::vector<Attempt>& attempts, std::string* error) override;
  std::string describe() const override;

 private:
  std::string url_;  // a secret: never logged
};

}  // namespace lms::orchestrator
