// One proxy reached through lms/control.h (liblms-control): the orchestrator's only way to a proxy.
// A thin RAII layer that turns the C calls' results into model structs and errors into strings.
#pragma once

#include <lms/control.h>

#include <string>
#include <vector>

#include "model.h"

namespace lms::orchestrator {

struct TlsFiles {
  std::string ca_cert;
  std::string client_cert;
  std::string client_key;
  std::string server_name;  // proxies reached by IP address present a certificate for this name
};

class ProxyClient {
 public:
  ProxyClient(const std::string& address, const TlsFiles& tls, uint32_t timeout_ms);
  ~ProxyClient();
  ProxyClient(const ProxyClient&) = delete;
  ProxyClient& operator=(const ProxyClient&) = delete;

  bool status(control::Status* out, std::string* error);
  bool connections(std::vector<control::Connection>* out, std::string* error);
  bool begin(const control::BeginOptions& options, control::Cutover* out, std::string* error);
  bool commit(uint64_t id, control::Cutover* out, std::string* error);
  bool abort(uint64_t id, control::Cutover* out, std::string* error);
  bool cutover(control::Cutover* out, std::string* error);
  bool replication_mark(const std::string& token, std::string* error);
  bool replication_seen(const std::string& token, bool* seen, std::string* error);
  bool replication_prepare(bool* created_on_truth, bool* created_on_other, std::string* error);
  // The transactions open on the proxy's source of truth for at least min_age_ms, oldest first.
  bool open_transactions(uint64_t min_age_ms, std::vector<control::OpenTransaction>* out, std::string* error);
  // The other database's (after a commit: the old source's) count of rows written; fencing it.
  bool other_rows_written(uint64_t* rows, std::string* error);
  bool fence_other(bool on, std::string* error);
  // The source of truth's position in its change stream and the replication slots reading it.
  bool replication_position(control::ReplicationPosition* out, std::string* error);
  // Each named table read on the other database, with its error when it could not be.
  // Each user who may log in to the proxy, looked up on the other database.
  bool check_other_logins(std::vector<control::NameCheck>* out, std::string* error);
  bool check_other_tables(const std::vector<std::string>& names, std::vector<control::NameCheck>* out,
                          std::string* error);
  bool shadow_report(std::string* json_text, std::string* error);  // JSON text
  bool metrics(std::string* text, std::string* error);             // Prometheus text

 private:
  lms_control* handle_ = nullptr;
  std::string open_error_;
};

}  // namespace lms::orchestrator
