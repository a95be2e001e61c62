// The control plane's HTTPS side, shared by lms-orchestrator's API and the proxies' HTTP port.
//
// With a certificate and key the server speaks TLS; with a CA as well it asks every client for a
// certificate and refuses, during the handshake, one the CA did not sign (or that expired). A
// client may still connect without a certificate: which routes need one is the server's choice
// (`verified_client`), so Kubernetes probes and Prometheus can read /healthz and /metrics while the
// control routes stay closed to them. The files are re-read, at the next handshake, whenever one
// changes on disk: Kubernetes rotates a mounted secret by swapping it in place.
//
// Without a certificate the control routes answer only callers on the same machine, unless the
// operator says otherwise (`ControlAccess::insecure`).
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace lms::control {

struct TlsServerFiles {
  std::string cert;
  std::string key;
  std::string client_ca;  // empty: client certificates are not asked for
  bool enabled() const { return !cert.empty() || !key.empty(); }
};

struct Credentials;
struct FileStamp;

// A certificate, its key and a client CA, re-read (at the next handshake) whenever one of the files
// changes; a file caught half-written keeps the previous set. Shared by every TLS server of LMS:
// install() hooks it into an SSL_CTX, which must not outlive it.
class ReloadingCredentials {
 public:
  // require_client_cert: with a client CA, a client without a certificate fails the handshake
  // (otherwise it may connect and the server decides, as with verified_client).
  explicit ReloadingCredentials(TlsServerFiles files, bool require_client_cert = false);
  ~ReloadingCredentials();
  ReloadingCredentials(const ReloadingCredentials&) = delete;
  ReloadingCredentials& operator=(const ReloadingCredentials&) = delete;

  // The first load; its errors are the caller's to report.
  bool load(std::string* error);
  void install(SSL_CTX* ctx);

 private:
  static int apply(SSL* ssl, void* self);
  std::shared_ptr<Credentials> current();
  std::vector<FileStamp> current_stamps() const;

  TlsServerFiles files_;
  bool require_client_cert_;
  std::mutex mutex_;
  std::shared_ptr<Credentials> loaded_;
  std::vector<FileStamp> stamps_;
};

// Makes an HTTP server, with TLS when `files` name a certificate. Fails with *error when a file
// cannot be read or the key does not match the certificate.
std::unique_ptr<httplib::Server> make_http_server(const TlsServerFiles& files, std::string* error);

// The request came over TLS with a client certificate the configured CA verified.
bool verified_client(const httplib::Request& req);
// The request came from this machine (127.0.0.0/8 or ::1).
bool loopback_peer(const httplib::Request& req);

// Who may call the control routes.
struct ControlAccess {
  bool tls = false;          // the server has a certificate
  bool client_certs = false; // and a client CA: callers must present a verified certificate
  bool insecure = false;     // the operator allowed plain control from anywhere
  // Empty when `req` may call a control route; else why not (for a 403 answer).
  std::string refuse(const httplib::Request& req) const;
};

}  // namespace lms::control
