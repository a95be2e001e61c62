// Loads plugins with Boost.DLL and checks them before anything calls into them: the entry symbol,
// the ABI version, the descriptor's shape and its function table. A plugin that fails any check is
// refused with one line naming the file and the reason.
#pragma once

#include <lms/plugin.h>

#include <memory>
#include <optional>
#include <string>

namespace boost::dll {
class shared_library;
}

namespace lms::core {

class LoadedPlugin {
 public:
  const lms_plugin_descriptor& descriptor() const { return *descriptor_; }
  const std::string& path() const { return path_; }
  std::string name() const { return {descriptor_->name.data, descriptor_->name.len}; }
  std::string version() const { return {descriptor_->version.data, descriptor_->version.len}; }
  // Valid while this object (or a copy) lives: it holds the library mapped.
  const lms_dialect_functions* dialect() const {
    return static_cast<const lms_dialect_functions*>(descriptor_->functions);
  }
  const lms_shadow_functions* shadow() const {
    return static_cast<const lms_shadow_functions*>(descriptor_->functions);
  }

 private:
  friend std::optional<LoadedPlugin> load_plugin(const std::string&, lms_plugin_kind, std::string*);
  std::shared_ptr<boost::dll::shared_library> library_;
  const lms_plugin_descriptor* descriptor_ = nullptr;
  std::string path_;
};

// The file a plugin of `kind` named `name` lives in: DIR/dialect_NAME.so or DIR/shadow_NAME.so.
std::string plugin_path(const std::string& dir, lms_plugin_kind kind, const std::string& name);

// The plugin directory to use when the configuration names none: next to the binary in a build
// tree, else the installed one.
std::string default_plugin_dir();

std::optional<LoadedPlugin> load_plugin(const std::string& path, lms_plugin_kind kind, std::string* error);

// Optional dialect functions a plugin may leave out (or predate).
bool has_probe(const lms_dialect_functions* f);
bool has_encode_terminate(const lms_dialect_functions* f);
// ABI 1.1: a dialect without these can still proxy, but cannot carry session state through a
// cutover, nor write the replication marker.
bool has_inspect(const lms_dialect_functions* f);
bool has_execute(const lms_dialect_functions* f);
// ABI 1.2: validation needs both dialects to summarize answers and the shadow plugin to compare.
bool has_summary(const lms_dialect_functions* f);
bool has_normalize(const lms_dialect_functions* f);
bool has_compare(const lms_shadow_functions* f);
// ABI 1.3: messages delimited by a per-connection framer (MySQL); handshake errors from the front.
bool has_framer(const lms_dialect_functions* f);
bool has_front_error(const lms_dialect_functions* f);
bool has_encode_reset(const lms_dialect_functions* f);
// ABI 1.5: a client of one dialect served by a database of another.
bool has_translator(const lms_dialect_functions* f);  // the clients' side
bool has_decoder(const lms_dialect_functions* f);     // the database's side
// ABI 1.6: how much of a database's cancel key the client's key shows as it is (0 before 1.6).
size_t cancel_key_shown(const lms_dialect_functions* f);
// ABI 1.7: the transactions open on a database, for a cutover's preflight.
bool has_open_transactions(const lms_dialect_functions* f);
// ABI 1.7: the old database watched and fenced after a cutover.
bool has_rows_written(const lms_dialect_functions* f);
bool has_fence(const lms_dialect_functions* f);
// ABI 1.8: the database's position in its change stream and its replication slots.
bool has_replication_position(const lms_dialect_functions* f);
// ABI 1.9: the users a database lets log in, with their verifiers (auth-query).
bool has_list_logins(const lms_dialect_functions* f);
// ABI 1.9: a login again within a session (MySQL COM_CHANGE_USER).
bool has_front_change_user(const lms_dialect_functions* f);
// ABI 1.10: the dialect pools by transaction (every pool_* function).
bool has_pooling(const lms_dialect_functions* f);
// ABI 1.11: a pooled connection's statement work is counted (optional with pooling).
bool has_pool_statement_work(const lms_dialect_functions* f);
// ABI 1.12: a BEGIN is answered by the dialect and sent with the transaction's first request.
bool has_pool_defer_begin(const lms_dialect_functions* f);
// ABI 1.13: options of a pooled connection (LMS_POOL_CACHE_UNNAMED).
bool has_pool_server_options(const lms_dialect_functions* f);
// Whether two dialects (by plugin name) speak one wire protocol: PostgreSQL's is CockroachDB's.
bool same_protocol(std::string_view a, std::string_view b);

}  // namespace lms::core
