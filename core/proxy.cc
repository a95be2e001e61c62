#include "proxy.h"

#include "auth_file.h"
#include "loop/worker_fanout.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace lms::core {

Proxy::Proxy(Config config) : config_(std::move(config)) {}

Proxy::~Proxy() {
  stop();
  if (shadow_state_ != nullptr) shadow_->shadow()->destroy(shadow_state_);
}

bool Proxy::load_plugins(std::string* error) {
  const std::string dir = config_.plugin_dir.empty() ? default_plugin_dir() : config_.plugin_dir;
  source_dialect_ =
      load_plugin(plugin_path(dir, LMS_PLUGIN_DIALECT, config_.source_dialect), LMS_PLUGIN_DIALECT, error);
  if (!source_dialect_) return false;
  if (!config_.target.empty()) {
    target_dialect_ =
        load_plugin(plugin_path(dir, LMS_PLUGIN_DIALECT, config_.target_dialect), LMS_PLUGIN_DIALECT, error);
    if (!target_dialect_) return false;
  }
  shadow_ = load_plugin(plugin_path(dir, LMS_PLUGIN_SHADOW, config_.shadow_mode), LMS_PLUGIN_SHADOW, error);
  if (!shadow_) return false;
  // Options every shadow plugin is given; the shipped modes read `validate`.
  const std::string validate = config_.shadow_validate ? "on" : "off";
  const lms_kv options[] = {{{"validate", 8}, {validate.data(), validate.size()}}};
  shadow_state_ = shadow_->shadow()->create(options, 1);
  if (shadow_state_ == nullptr) {
    *error = "plugin " + shadow_->path() + ": could not create its state";
    return false;
  }
  if (config_.transaction_pooling() && !has_pooling(source_dialect_->dialect())) {
    // MySQL's sessions keep what a transaction pool cannot move between connections without
    // knowing every command's effect (user variables, LAST_INSERT_ID(), session settings set by
    // statements): its clients keep a connection each.
    *error = "pool-mode transaction: the " + config_.source_dialect +
             " dialect pools by session only (pool-mode session, server-pool-size keeps connections "
             "for the next client)";
    return false;
  }
  if (config_.pool_cache_unnamed &&
      (!has_pool_server_options(source_dialect_->dialect()) ||
       (target_dialect_ && !has_pool_server_options(target_dialect_->dialect())))) {
    *error =
        "pool-cache-unnamed: a dialect plugin of this proxy does not keep unnamed statements (plugin ABI "
        "1.13 pool_server_options)";
    return false;
  }
  if (config_.transaction_pooling() && target_dialect_ &&
      !same_protocol(source_dialect_->name(), target_dialect_->name())) {
    *error =
        "pool-mode transaction: a target of another protocol than the source's is not pooled by "
        "transaction; use pool-mode session";
    return false;
  }
  spdlog::info("loaded dialect {} {} from {}; shadow mode {}", source_dialect_->name(),
               source_dialect_->version(), source_dialect_->path(), shadow_->name());
  return true;
}

bool Proxy::start(std::string* error) {
  if (!load_plugins(error)) return false;
  auto source = parse_endpoint(source_dialect_->dialect(), config_.source, error);
  if (!source) {
    *error = "invalid source connection string: " + *error;
    return false;
  }
  source_ = std::move(*source);
  if (!config_.target.empty()) {
    const bool translated = !same_protocol(source_dialect_->name(), target_dialect_->name());
    if (translated &&
        !(has_translator(source_dialect_->dialect()) && has_decoder(target_dialect_->dialect()))) {
      *error = "source dialect " + config_.source_dialect + " and target dialect " + config_.target_dialect +
               " speak different protocols, and the plugins cannot translate between them";
      return false;
    }
    if (!translated && has_framer(source_dialect_->dialect())) {
      // A shadow link delimits the target's answers by itself, which a protocol needing a
      // framer (MySQL) does not allow: MySQL to MySQL is not carried.
      *error = "source dialect " + config_.source_dialect + " cannot have a target of the same protocol: " +
               "lms carries MySQL clients to a CockroachDB (PostgreSQL-protocol) target";
      return false;
    }
    shared_.target_translated = translated;
  }
  if (!config_.target.empty()) {
    target_ = parse_endpoint(target_dialect_->dialect(), config_.target, error);
    if (!target_) {
      *error = "invalid target connection string: " + *error;
      return false;
    }
  }
  if (source_.param("user").empty()) {
    *error = "invalid source connection string: it names no user (clients log in as that user)";
    return false;
  }
  if (!setup_tls(error)) return false;
  AuthUsers listed;
  if (!config_.auth_file.empty()) {
    auto users = read_auth_file(config_.auth_file, error);
    if (!users) return false;
    listed = std::move(*users);
    spdlog::info("{} users may log in (auth file {})", listed.size(), config_.auth_file);
  }

  shared_.config = &config_;
  shared_.dialect = source_dialect_->dialect();
  shared_.source = &source_;
  if (target_) {
    shared_.target_dialect = target_dialect_->dialect();
    shared_.target = &*target_;
    shared_.shadow = shadow_->shadow();
    shared_.shadow_state = shadow_state_;
    if (!setup_validation(error)) return false;
  }
  // Clients authenticate as the source's user with the source's password, unless users are listed
  // (auth-file, auth-query); the dialect runs the exchange.
  for (const auto& [key, value] : source_.params) {
    if (key == "user" || key == "password") front_base_.emplace_back(key, value);
  }
  front_base_.emplace_back("auth_method", config_.auth_method);
  shared_.front_settings.store(std::make_shared<const FrontSettings>(front_base_, listed));
  if (!setup_logins(error)) return false;

  for (unsigned i = 0; i < config_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(shared_, i));
    if (!workers_.back()->bind(error)) return false;
  }
  const std::vector<Worker*> workers = worker_list();
  cutover_ = std::make_unique<CutoverController>(shared_, workers);
  shared_.cutover = cutover_.get();
  if (!cutover_->restore(error)) return false;
  control_ = std::make_unique<ControlService>(
      shared_, workers, *cutover_,
      ProxyViews{[this](std::string* reason) { return probe_source(reason); }, [this] { return render_metrics(); },
                 [this] { return render_shadow_report(); }});
  HttpSecurity security;
  security.files = {config_.control_tls_cert, config_.control_tls_key, config_.control_tls_ca};
  security.access.tls = !config_.control_tls_cert.empty();
  security.access.client_certs = !config_.control_tls_ca.empty();
  security.access.insecure = config_.allow_insecure_control;
  http_ =
      std::make_unique<HttpServer>(HttpHandlers{[this] { return render_metrics(); },
                                                [this](std::string* reason) { return probe_source(reason); },
                                                control_.get(), [this] { return render_shadow_report(); }},
                                   security);
  if (!http_->bind(config_.http_listen, error)) return false;

  std::string reason;
  if (!probe_source(&reason)) {
    // Not fatal: sessions get a clear error until the source is back, and serve as soon as it is.
    spdlog::warn("the source {} is not answering yet: {}", source_.describe(), reason);
  }
  for (auto& w : workers_) w->start();
  http_->start();
  if (logins_) logins_->start();
  spdlog::info(
      "lms {} serving {} clients on {}:{} (source {}, target {}, shadow mode {}, pool mode {}, {} workers, "
      "{} on {}:{})",
      LMS_VERSION, config_.source_dialect, config_.listen.host, config_.listen.port, source_.describe(),
      target_ ? target_->describe() : "none", config_.shadow_mode,
      config_.transaction_pooling() ? "transaction (" + std::to_string(config_.server_pool_size) +
                                          " connections per user and database per worker)"
                                    : std::string("session"),
      config_.workers,
      config_.control_tls_cert.empty() ? "HTTP"
      : config_.control_tls_ca.empty() ? "HTTPS"
                                       : "HTTPS with client certificates for /v1",
      config_.http_listen.host, config_.http_listen.port);
  return true;
}

void Proxy::stop() {
  logins_.reset();  // its thread ends before what it publishes to
  if (http_) http_->stop();
  if (cutover_) cutover_->stop();
  for (auto& w : workers_) w->stop();
  workers_.clear();
}

void Proxy::drain(const std::function<bool(uint32_t wait_ms)>& hurry) {
  using Clock = std::chrono::steady_clock;
  draining_ = true;
  source_ready_ = false;
  const auto started = Clock::now();
  spdlog::info("draining: {} sessions open; new clients are refused; busy sessions get up to {} ms",
               shared_.open_sessions.load(), config_.shutdown_grace_ms);
  for (auto& w : workers_) {
    Worker* worker = w.get();
    worker->post([worker] { worker->drain(); });
  }
  const auto deadline = started + std::chrono::milliseconds(config_.shutdown_grace_ms);
  constexpr uint32_t kPollMs = 50;
  while (shared_.open_sessions.load() > 0 && Clock::now() < deadline) {
    if (hurry(kPollMs)) {
      spdlog::warn("second stop signal: ending {} sessions now", shared_.open_sessions.load());
      break;
    }
  }
  if (shared_.open_sessions.load() > 0) {
    spdlog::warn("ending {} sessions still busy", shared_.open_sessions.load());
    for (auto& w : workers_) {
      Worker* worker = w.get();
      worker->post([worker] { worker->end_sessions_for_shutdown(); });
    }
    // Their clients are sent the reason before the sockets close (bounded by the close deadline).
    const auto flushed = Clock::now() + std::chrono::seconds(2);
    while (shared_.open_sessions.load() > 0 && Clock::now() < flushed) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    }
  }
  spdlog::info("drained in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
}

bool Proxy::setup_tls(std::string* error) {
  for (auto [endpoint, which] :
       {std::pair{&source_, "source"}, std::pair{target_ ? &*target_ : nullptr, "target"}}) {
    if (endpoint == nullptr) continue;
    auto tls = make_database_tls(*endpoint, error);
    if (!tls) {
      *error = std::string("invalid ") + which + " connection string: " + *error;
      return false;
    }
    if (!tls->wanted() && !config_.allow_tls_mode_disable) {
      *error = std::string("the ") + which + " connection string has sslmode=" + tls->mode +
               ": TLS to the databases is the default; start with --allow-tls-mode-disable to go without it";
      return false;
    }
    if (!tls->wanted()) spdlog::warn("TLS to the {} is disabled (sslmode={})", which, tls->mode);
    endpoint->tls = std::move(tls);
  }
  client_tls_ = make_client_tls(config_.ssl_cert, config_.ssl_key, config_.ssl_ca, config_.client_tls, error);
  if (!client_tls_) return false;
  shared_.client_tls = client_tls_.get();
  static constexpr std::string_view kTls = "tls";
  const std::string_view mode = client_tls_->mode == ClientTlsMode::kOff  ? "off"
                                : client_tls_->mode == ClientTlsMode::kOn ? "on"
                                                                          : "require";
  front_base_.emplace_back(std::string(kTls), std::string(mode));
  return true;
}

// Who may log in. Given auth-query, the users it answers, or the start fails. Unset, the source's
// own users (pg_authid, mysql.user) when the account may read them and they include the account
// itself; else the account alone, with a line that says why and how to change it.
bool Proxy::setup_logins(std::string* error) {
  const bool asked = !config_.auth_query.empty() && config_.auth_query != "none";
  const bool automatic = config_.auth_query.empty() && config_.auth_file.empty() &&
                         config_.auth_method == "scram-sha-256" && has_list_logins(shared_.dialect);
  if (!asked && !automatic) return true;
  if (asked && !has_list_logins(shared_.dialect)) {
    *error = "auth-query: the source's dialect cannot list its users";
    return false;
  }
  auto logins = std::make_unique<LoginRefresher>(
      shared_.dialect, source_, asked ? config_.auth_query : "", config_.auth_refresh_ms,
      [this](const AuthUsers& users) {
        shared_.front_settings.store(std::make_shared<const FrontSettings>(front_base_, users));
      });
  std::string why;
  if (!logins->load(&why)) {
    if (asked) {
      *error = "auth-query: cannot read the users from the source " + source_.describe() + ": " + why;
      return false;
    }
  } else if (asked || logins->lists(source_.param("user"))) {
    logins->publish_first();
    logins_ = std::move(logins);
    return true;
  } else {
    why = "its own user is not among those it lists with a verifier LMS can check";
  }
  spdlog::info(
      "clients log in as the source connection string's user {} (every session is that account): the "
      "source's users cannot be read: {}. To let each user log in as itself, see --auth-query",
      source_.param("user"), why);
  return true;
}

bool Proxy::setup_validation(std::string* error) {
  ValidationSettings& v = shared_.validation;
  // A translated target's answers reach the core in the clients' protocol: the clients' dialect
  // summarizes both.
  v.enabled = config_.shadow_validate && has_compare(shared_.shadow) && has_summary(shared_.dialect) &&
              (shared_.target_translated || has_summary(shared_.target_dialect));
  if (config_.shadow_validate && config_.shadow_mode != "none" && !v.enabled) {
    spdlog::info("answers are not compared: the shadow mode or a dialect predates validation (ABI 1.2)");
  }
  v.ignored_columns = config_.shadow_ignore_columns;
  for (const std::string& c : v.ignored_columns) v.ignored_column_views.push_back({c.data(), c.size()});
  if (!config_.shadow_ignore_statements.empty()) {
    v.ignored_statements.emplace(config_.shadow_ignore_statements,
                                 std::regex::ECMAScript | std::regex::icase);
  }
  if (!config_.mismatch_file.empty()) {
    v.mismatch_log = MismatchLog::open(config_.mismatch_file, error);
    if (!v.mismatch_log) return false;
  }
  return true;
}

std::vector<Worker*> Proxy::worker_list() const {
  std::vector<Worker*> out;
  for (const auto& w : workers_) out.push_back(w.get());
  return out;
}

std::string Proxy::render_shadow_report() {
  CompatReport merged;
  // A worker that cannot answer in time is left out rather than hold the caller.
  for (const auto& part :
       ask_every_worker(worker_list(), [](Worker& w) { return w.validator().report(); }).answers)
    merge_report(merged, part);
  return render_report_json(merged, config_.shadow_mode);
}

bool Proxy::probe_source(std::string* reason) {
  if (draining_) {
    *reason = "lms is shutting down";
    return false;
  }
  // Ready means the database serving now answers: the source, or the target after a cutover.
  const uint8_t truth = shared_.truth.load();
  const auto* dialect = truth == kTargetRole ? target_dialect_->dialect() : source_dialect_->dialect();
  if (!has_probe(dialect)) {
    *reason = "the dialect of the source of truth cannot probe its database";
    source_ready_ = false;
    return false;
  }
  const auto kvs = (truth == kTargetRole ? *target_ : source_).kvs();
  char error[256] = {};
  const bool ok = dialect->probe(kvs.data(), kvs.size(), 2000, error, sizeof error) == LMS_OK;
  if (!ok) *reason = error;
  source_ready_ = ok;
  return ok;
}

std::string Proxy::render_metrics() {
  std::vector<const WorkerMetrics*> all;
  for (const auto& w : workers_) all.push_back(&w->metrics());
  std::string text = render_prometheus(all, {LMS_VERSION, config_.source_dialect, config_.shadow_mode},
                                       source_ready_.load());
  if (cutover_) text += cutover_->render_metrics();
  return text;
}

}  // namespace lms::core
