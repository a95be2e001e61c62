#include "plugin_loader.h"

#include <dlfcn.h>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <filesystem>

#include "log.h"

namespace lms::core {
namespace {

// The descriptor fields ABI 1.0 requires.
constexpr size_t kMinDescriptorSize = offsetof(lms_plugin_descriptor, functions) + sizeof(void*);
// Dialect functions every plugin must provide: everything up to and including encode_cancel.
constexpr size_t kMinDialectSize = offsetof(lms_dialect_functions, encode_cancel) + sizeof(void*);
constexpr size_t kMinShadowSize = offsetof(lms_shadow_functions, decide) + sizeof(void*);

std::string refuse(const std::string& path, const std::string& why) { return "plugin " + path + ": " + why; }

bool dialect_table_complete(const lms_dialect_functions* f) {
  return f->parse_connection_string && f->frame && f->front_create && f->front_step && f->front_finish &&
         f->front_destroy && f->back_create && f->back_start && f->back_step && f->back_destroy &&
         f->encode_error && f->encode_cancel && f->cancel_key_len > 0 && f->cancel_key_len <= 64;
}

}  // namespace

std::string plugin_path(const std::string& dir, lms_plugin_kind kind, const std::string& name) {
  return (std::filesystem::path(dir) / ((kind == LMS_PLUGIN_DIALECT ? "dialect_" : "shadow_") + name + ".so"))
      .string();
}

std::string default_plugin_dir() {
  std::error_code ec;
  const auto exe = boost::dll::program_location(ec);
  if (!ec) {
    // build/core/lms -> build/plugins
    const auto beside = exe.parent_path().parent_path() / "plugins";
    if (std::filesystem::exists(beside / "dialect_postgres.so", ec)) return beside.string();
    // PREFIX/bin/lms -> PREFIX/lib/.../lms/plugins
    const auto installed = exe.parent_path().parent_path() / LMS_PLUGIN_SUBDIR;
    if (std::filesystem::exists(installed, ec)) return installed.string();
  }
  return LMS_PLUGIN_INSTALL_DIR;
}

std::optional<LoadedPlugin> load_plugin(const std::string& path, lms_plugin_kind kind, std::string* error) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    *error = refuse(path, "not found");
    return std::nullopt;
  }
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    // RTLD_NODELETE (Boost.DLL passes the bits to dlopen as they are): a plugin stays mapped until
    // the process ends, and the client libraries it links with it. libpq and libmariadb keep
    // process-wide state they never free (libpq's socket BIO method, libmariadb's character sets);
    // unloaded at exit, that state would be lost rather than released, and anything that still
    // points into their code (OpenSSL's thread-exit handlers) would point at nothing.
    const auto nodelete = static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);
    library->load(path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local | nodelete);
  } catch (const std::exception& e) {
    *error = refuse(path, std::string("cannot be loaded: ") + e.what());
    return std::nullopt;
  }
  if (!library->has(LMS_PLUGIN_ENTRY_SYMBOL)) {
    *error = refuse(path, "has no " LMS_PLUGIN_ENTRY_SYMBOL " symbol: not an LMS plugin");
    return std::nullopt;
  }
  const auto entry =
      library->get<const lms_plugin_descriptor*(const lms_negotiation*)>(LMS_PLUGIN_ENTRY_SYMBOL);
  const lms_negotiation negotiation = {sizeof(lms_negotiation), LMS_PLUGIN_ABI_MAJOR, LMS_PLUGIN_ABI_MINOR,
                                       host_api()};
  const lms_plugin_descriptor* d = entry(&negotiation);
  const std::string host_abi =
      std::to_string(LMS_PLUGIN_ABI_MAJOR) + "." + std::to_string(LMS_PLUGIN_ABI_MINOR);
  if (d == nullptr) {
    *error = refuse(path, "refused to work with this host's ABI " + host_abi);
    return std::nullopt;
  }
  // The version fields come before anything else that could be malformed, so a plugin of another
  // major gets the message that says so.
  if (d->struct_size < offsetof(lms_plugin_descriptor, kind)) {
    *error = refuse(path, "malformed descriptor (struct_size " + std::to_string(d->struct_size) + ")");
    return std::nullopt;
  }
  const std::string plugin_abi = std::to_string(d->abi_major) + "." + std::to_string(d->abi_minor);
  if (d->abi_major != LMS_PLUGIN_ABI_MAJOR) {
    *error = refuse(path, "built for plugin ABI " + plugin_abi + ", this host speaks " + host_abi);
    return std::nullopt;
  }
  if (d->abi_minor > LMS_PLUGIN_ABI_MINOR) {
    // A newer minor only added at the ends of its structs: this host reads the fields it knows
    // (every read checks struct_size) and leaves the rest unused.
    spdlog::info("plugin {} is built for plugin ABI {}, this host speaks {}: what {} added is not used", path,
                 plugin_abi, host_abi, plugin_abi);
  }
  if (d->struct_size < kMinDescriptorSize || d->functions == nullptr || d->name.data == nullptr ||
      d->name.len == 0) {
    *error = refuse(path, "malformed descriptor (struct_size " + std::to_string(d->struct_size) +
                              ", name or function table missing)");
    return std::nullopt;
  }
  if (d->kind != static_cast<uint32_t>(kind)) {
    *error = refuse(path, std::string("is a ") + (d->kind == LMS_PLUGIN_DIALECT ? "dialect" : "shadow") +
                              " plugin where a " + (kind == LMS_PLUGIN_DIALECT ? "dialect" : "shadow") +
                              " plugin was expected");
    return std::nullopt;
  }
  if (kind == LMS_PLUGIN_DIALECT) {
    const auto* f = static_cast<const lms_dialect_functions*>(d->functions);
    if (f->struct_size < kMinDialectSize || !dialect_table_complete(f)) {
      *error = refuse(path, "malformed dialect function table");
      return std::nullopt;
    }
  } else {
    const auto* f = static_cast<const lms_shadow_functions*>(d->functions);
    if (f->struct_size < kMinShadowSize || !f->create || !f->destroy || !f->decide) {
      *error = refuse(path, "malformed shadow function table");
      return std::nullopt;
    }
  }
  LoadedPlugin plugin;
  plugin.library_ = std::move(library);
  plugin.descriptor_ = d;
  plugin.path_ = path;
  return plugin;
}

bool has_probe(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, probe) && f->probe != nullptr;
}

bool has_encode_terminate(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, encode_terminate) && f->encode_terminate != nullptr;
}

bool has_inspect(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, encode_request) && f->inspect != nullptr &&
         f->encode_request != nullptr;
}

bool has_execute(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, execute) && f->execute != nullptr;
}

bool has_summary(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, normalize) && f->summary_create != nullptr &&
         f->summary_feed != nullptr && f->summary_get != nullptr && f->summary_reset != nullptr &&
         f->summary_destroy != nullptr && f->normalize != nullptr;
}

bool has_framer(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, framer_destroy) && f->framer_create != nullptr &&
         f->framer_next != nullptr && f->framer_destroy != nullptr;
}

bool has_front_error(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, front_error) && f->front_error != nullptr;
}

bool has_encode_reset(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, encode_reset) && f->encode_reset != nullptr;
}

bool has_translator(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, translator_learn) && f->translator_create != nullptr &&
         f->translator_feed != nullptr && f->translator_next != nullptr && f->translator_answer != nullptr &&
         f->translator_destroy != nullptr && f->translator_learn != nullptr;
}

bool has_decoder(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, decoder_destroy) && f->encode_translated != nullptr &&
         f->decoder_create != nullptr && f->decoder_feed != nullptr && f->decoder_next != nullptr &&
         f->decoder_destroy != nullptr;
}

bool same_protocol(std::string_view a, std::string_view b) {
  auto family = [](std::string_view name) {
    return name == "cockroach" ? std::string_view("postgres") : name;
  };
  return family(a) == family(b);
}

bool has_normalize(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, normalize) && f->normalize != nullptr;
}

bool has_compare(const lms_shadow_functions* f) {
  return LMS_HAS_FIELD(f, lms_shadow_functions, compare) && f->compare != nullptr;
}

bool has_open_transactions(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, open_transactions) && f->open_transactions != nullptr;
}

bool has_rows_written(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, rows_written) && f->rows_written != nullptr;
}

bool has_fence(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, fence) && f->fence != nullptr;
}

bool has_replication_position(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, replication_position) && f->replication_position != nullptr;
}

bool has_list_logins(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, list_logins) && f->list_logins != nullptr;
}

bool has_front_change_user(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, front_change_user) && f->front_change_user != nullptr;
}

bool has_pooling(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, pool_answer_alone) && f->pool_answer_alone != nullptr &&
         f->pool_client_create != nullptr && f->pool_client_destroy != nullptr &&
         f->pool_server_create != nullptr && f->pool_server_destroy != nullptr &&
         f->pool_welcome != nullptr && f->pool_lend != nullptr && f->pool_client_message != nullptr &&
         f->pool_server_message != nullptr && f->pool_abandon != nullptr && f->pool_owed != nullptr &&
         f->pool_statements != nullptr;
}

bool has_pool_statement_work(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, pool_statement_work) && f->pool_statement_work != nullptr;
}

bool has_pool_defer_begin(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, pool_defer_begin) && f->pool_defer_begin != nullptr;
}

bool has_pool_server_options(const lms_dialect_functions* f) {
  return LMS_HAS_FIELD(f, lms_dialect_functions, pool_server_options) && f->pool_server_options != nullptr;
}

size_t cancel_key_shown(const lms_dialect_functions* f) {
  if (!LMS_HAS_FIELD(f, lms_dialect_functions, cancel_key_shown)) return 0;
  return f->cancel_key_shown < f->cancel_key_len ? f->cancel_key_shown : f->cancel_key_len;
}

}  // namespace lms::core
