// The TLS settings of the proxy's two kinds of connection, made once at start:
//  - to each database, from its connection string's sslmode, sslrootcert, sslcert and sslkey,
//    with libpq's meanings (disable, allow, prefer, require, verify-ca, verify-full);
//  - from clients, from the proxy's own certificate and key, and a CA for client certificates.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "tls_server.h"

namespace lms::core {

struct Endpoint;

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

struct DatabaseTls {
  std::string mode;         // as given, or "prefer" when the connection string names none
  SslCtxPtr ctx;            // null when mode is disable or allow
  std::string verify_host;  // verify-full: the host the certificate must name

  // Whether the proxy asks the database for TLS, and whether it gives up without it.
  bool wanted() const { return ctx != nullptr; }
  bool required() const { return mode == "require" || mode == "verify-ca" || mode == "verify-full"; }
};

// Fails with *error on an unknown sslmode or an unreadable file.
std::unique_ptr<DatabaseTls> make_database_tls(const Endpoint& endpoint, std::string* error);

// How the proxy treats its clients' TLS.
enum class ClientTlsMode {
  kOff,      // no certificate: TLS is declined, clients connect in plain text
  kOn,       // TLS offered; plain clients accepted too
  kRequire,  // plain clients refused
  kVerify    // and every client must present a certificate the CA signed
};

struct ClientTls {
  ClientTlsMode mode = ClientTlsMode::kOff;
  std::unique_ptr<control::ReloadingCredentials> credentials;  // before ctx: ctx points at it
  SslCtxPtr ctx;
};

// From the settings ssl-cert, ssl-key, ssl-ca and client-tls ("" picks on, or off without a
// certificate).
std::unique_ptr<ClientTls> make_client_tls(const std::string& cert, const std::string& key,
                                           const std::string& ca, const std::string& mode,
                                           std::string* error);

}  // namespace lms::core
