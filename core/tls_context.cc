#include "tls_context.h"

#include <openssl/err.h>

#include "endpoint.h"

namespace lms::core {
namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

}  // namespace

std::unique_ptr<DatabaseTls> make_database_tls(const Endpoint& endpoint, std::string* error) {
  auto tls = std::make_unique<DatabaseTls>();
  tls->mode = endpoint.param("sslmode");
  if (tls->mode.empty()) tls->mode = "prefer";  // libpq's default
  const std::string& m = tls->mode;
  if (m != "disable" && m != "allow" && m != "prefer" && m != "require" && m != "verify-ca" &&
      m != "verify-full") {
    *error = "sslmode '" + m + "' is not disable, allow, prefer, require, verify-ca or verify-full";
    return nullptr;
  }
  if (m == "disable" || m == "allow") return tls;  // allow: plain first, as libpq, and plain suffices
  tls->ctx.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = tls->ctx.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  const bool verify = m == "verify-ca" || m == "verify-full";
  const std::string root = endpoint.param("sslrootcert");
  if (verify) {
    const bool loaded = root.empty() || root == "system"
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, root.c_str(), nullptr) == 1;
    if (!loaded) {
      *error = "cannot read sslrootcert " + root + ": " + openssl_error();
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
    if (m == "verify-full") tls->verify_host = endpoint.host;
  }
  const std::string cert = endpoint.param("sslcert");
  const std::string key = endpoint.param("sslkey");
  if (!cert.empty() || !key.empty()) {
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
      *error = "cannot read sslcert " + cert + ": " + openssl_error();
      return nullptr;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      *error = "cannot use sslkey " + key + " with sslcert " + cert + ": " + openssl_error();
      return nullptr;
    }
  }
  return tls;
}

std::unique_ptr<ClientTls> make_client_tls(const std::string& cert, const std::string& key,
                                           const std::string& ca, const std::string& mode,
                                           std::string* error) {
  auto tls = std::make_unique<ClientTls>();
  if (mode == "off" || (mode.empty() && cert.empty())) return tls;
  if (cert.empty() || key.empty()) {
    *error = "client TLS needs ssl-cert and ssl-key (LMS_SSL_CERT, LMS_SSL_KEY)";
    return nullptr;
  }
  if (mode.empty() || mode == "on") {
    tls->mode = ClientTlsMode::kOn;
  } else if (mode == "require") {
    tls->mode = ClientTlsMode::kRequire;
  } else if (mode == "verify") {
    tls->mode = ClientTlsMode::kVerify;
    if (ca.empty()) {
      *error = "client-tls verify needs ssl-ca (LMS_SSL_CA): the CA of the client certificates";
      return nullptr;
    }
  } else {
    *error = "client-tls '" + mode + "' is not off, on, require or verify";
    return nullptr;
  }
  // The CA verifies client certificates only when asked to; otherwise it is not consulted.
  const std::string client_ca = tls->mode == ClientTlsMode::kVerify ? ca : "";
  tls->credentials =
      std::make_unique<control::ReloadingCredentials>(control::TlsServerFiles{cert, key, client_ca},
                                                      /*require_client_cert=*/true);
  if (!tls->credentials->load(error)) return nullptr;
  tls->ctx.reset(SSL_CTX_new(TLS_server_method()));
  SSL_CTX_set_min_proto_version(tls->ctx.get(), TLS1_2_VERSION);
  tls->credentials->install(tls->ctx.get());
  return tls;
}

}  // namespace lms::core
