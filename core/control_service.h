// The proxy's implementation of the control plane (lms/control.h): its status, a snapshot of its
// sessions, the cutover steps, and the replication marker. The HTTP port serves it as JSON.
// Runs on the HTTP server's threads; reaches the workers only through their mailboxes.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "cutover.h"
#include "model.h"
#include "loop/worker.h"

namespace lms::core {

// What the proxy renders of itself, which the control plane hands out as it is.
struct ProxyViews {
  std::function<bool(std::string*)> ready;  // whether the source of truth answers (and why not)
  std::function<std::string()> metrics;     // Prometheus text
  std::function<std::string()> shadow_report;  // the compatibility report, JSON
};

class ControlService final : public control::Backend {
 public:
  ControlService(ProxyShared& shared, std::vector<Worker*> workers, CutoverController& cutover, ProxyViews views);

  bool status(control::Status* out, std::string* error) override;
  bool connections(std::vector<control::Connection>* out, std::string* error) override;
  bool begin(const control::BeginOptions& options, control::Cutover* out, std::string* error) override {
    return cutover_.begin(options, out, error);
  }
  bool commit(uint64_t id, control::Cutover* out, std::string* error) override {
    return cutover_.commit(id, out, error);
  }
  bool abort(uint64_t id, control::Cutover* out, std::string* error) override {
    return cutover_.abort(id, out, error);
  }
  bool cutover(control::Cutover* out, std::string*) override {
    *out = cutover_.current();
    return true;
  }
  bool replication_mark(const std::string& token, std::string* error) override;
  bool replication_seen(const std::string& token, bool* seen, std::string* error) override;
  bool replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error) override;
  bool shadow_report(std::string* json_text, std::string*) override {
    *json_text = views_.shadow_report();
    return true;
  }
  bool metrics(std::string* text, std::string*) override {
    *text = views_.metrics();
    return true;
  }
  bool open_transactions(uint64_t min_age_ms, std::vector<control::OpenTransaction>* out,
                         std::string* error) override;
  bool other_rows_written(uint64_t* rows, std::string* error) override;
  bool fence_other(bool on, std::string* error) override;
  bool replication_position(control::ReplicationPosition* out, std::string* error) override;
  bool check_other_logins(std::vector<control::NameCheck>* out, std::string* error) override;
  bool check_other_tables(const std::vector<std::string>& names, std::vector<control::NameCheck>* out,
                          std::string* error) override;

 private:
  // The role of the database that is not the source of truth now; false (*error set) when there is
  // none, or its dialect has no `what` (has_what).
  bool other_role(bool (*has_what)(const lms_dialect_functions*), const char* what, uint8_t* role,
                  std::string* error);
  // Runs one statement on the database with `role` over a connection of the proxy's own.
  bool execute(uint8_t role, const std::string& sql, uint64_t* rows, std::string* error);
  static std::string marker_table_ddl();
  // The marker table on `role`'s database, made when missing (*created).
  bool ensure_marker_table(uint8_t role, bool* created, std::string* error);

  ProxyShared& shared_;
  std::vector<Worker*> workers_;
  CutoverController& cutover_;
  ProxyViews views_;
};

// The table the replication check writes to and reads from; created where missing.
inline constexpr const char* kMarkerTable = "lms_cutover_marker";

}  // namespace lms::core
