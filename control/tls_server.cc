#include "tls_server.h"

#include <httplib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <array>
#include <mutex>

namespace lms::control {
namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  if (code == 0) return "unknown error";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

// What identifies a version of a file: a swapped or rewritten file changes at least one of these.
struct FileStamp {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  bool operator==(const FileStamp& o) const {
    return device == o.device && inode == o.inode && size == o.size && modified.tv_sec == o.modified.tv_sec &&
           modified.tv_nsec == o.modified.tv_nsec;
  }
};

static FileStamp stamp(const std::string& path) {
  struct stat st {};
  FileStamp s;
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return s;
  s.device = st.st_dev;
  s.inode = st.st_ino;
  s.size = st.st_size;
  s.modified = st.st_mtim;
  return s;
}

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

BioPtr open_pem(const std::string& path, std::string* error) {
  BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) *error = "cannot read " + path + ": " + openssl_error();
  return bio;
}

}  // namespace

// One consistent set of certificate, chain, key and client CA store, loaded together.
struct Credentials {
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  EVP_PKEY* key = nullptr;
  X509_STORE* client_ca = nullptr;

  Credentials() = default;
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;
  ~Credentials() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
    X509_STORE_free(client_ca);
  }

  bool load(const TlsServerFiles& files, std::string* error) {
    BioPtr cert_bio = open_pem(files.cert, error);
    if (!cert_bio) return false;
    cert = PEM_read_bio_X509_AUX(cert_bio.get(), nullptr, nullptr, nullptr);
    if (cert == nullptr) {
      *error = files.cert + " holds no PEM certificate";
      return false;
    }
    chain = sk_X509_new_null();
    while (X509* extra = PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr)) sk_X509_push(chain, extra);
    ERR_clear_error();  // the loop ends on "no start line"
    BioPtr key_bio = open_pem(files.key, error);
    if (!key_bio) return false;
    key = PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr);
    if (key == nullptr) {
      *error = files.key + " holds no PEM private key";
      return false;
    }
    if (X509_check_private_key(cert, key) != 1) {
      ERR_clear_error();
      *error = "the key " + files.key + " does not belong to the certificate " + files.cert;
      return false;
    }
    if (files.client_ca.empty()) return true;
    client_ca = X509_STORE_new();
    if (X509_STORE_load_locations(client_ca, files.client_ca.c_str(), nullptr) != 1) {
      *error = "cannot read the CA " + files.client_ca + ": " + openssl_error();
      return false;
    }
    return true;
  }
};

namespace {

// The credentials outlive the server's SSL_CTX, which points at them: they are constructed first
// (a base before the server) and destroyed last.
struct CredentialsHolder {
  std::unique_ptr<ReloadingCredentials> credentials;
};

class ReloadingSslServer : private CredentialsHolder, public httplib::SSLServer {
 public:
  explicit ReloadingSslServer(std::unique_ptr<ReloadingCredentials> c)
      : CredentialsHolder{std::move(c)}, httplib::SSLServer([p = credentials.get()](SSL_CTX& ctx) {
          SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
          p->install(&ctx);
          return true;
        }) {}
};

}  // namespace

std::unique_ptr<httplib::Server> make_http_server(const TlsServerFiles& files, std::string* error) {
  if (!files.enabled()) return std::make_unique<httplib::Server>();
  if (files.cert.empty() || files.key.empty()) {
    *error = "TLS needs both a certificate and a key";
    return nullptr;
  }
  auto credentials = std::make_unique<ReloadingCredentials>(files);
  if (!credentials->load(error)) return nullptr;
  auto server = std::make_unique<ReloadingSslServer>(std::move(credentials));
  if (!server->is_valid()) {
    *error = "cannot set up TLS: " + openssl_error();
    return nullptr;
  }
  return server;
}

ReloadingCredentials::ReloadingCredentials(TlsServerFiles files, bool require_client_cert)
    : files_(std::move(files)), require_client_cert_(require_client_cert) {}

ReloadingCredentials::~ReloadingCredentials() = default;

bool ReloadingCredentials::load(std::string* error) {
  auto fresh = std::make_shared<Credentials>();
  const auto stamps = current_stamps();
  if (!fresh->load(files_, error)) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  loaded_ = std::move(fresh);
  stamps_ = stamps;
  return true;
}

std::shared_ptr<Credentials> ReloadingCredentials::current() {
  const auto stamps = current_stamps();
  std::lock_guard<std::mutex> lock(mutex_);
  if (stamps != stamps_) {
    auto fresh = std::make_shared<Credentials>();
    std::string error;
    if (fresh->load(files_, &error)) {
      loaded_ = std::move(fresh);
      spdlog::info("TLS certificate, key and CA re-read from {}", files_.cert);
    } else {
      spdlog::warn("TLS files changed but cannot be used yet ({}); keeping the previous ones", error);
    }
    stamps_ = stamps;
  }
  return loaded_;
}

std::vector<FileStamp> ReloadingCredentials::current_stamps() const {
  return {stamp(files_.cert), stamp(files_.key), stamp(files_.client_ca)};
}

void ReloadingCredentials::install(SSL_CTX* ctx) { SSL_CTX_set_cert_cb(ctx, &ReloadingCredentials::apply, this); }

int ReloadingCredentials::apply(SSL* ssl, void* arg) {
  auto* self = static_cast<ReloadingCredentials*>(arg);
  const auto credentials = self->current();
  if (!credentials) return 0;
  if (SSL_use_certificate(ssl, credentials->cert) != 1 || SSL_use_PrivateKey(ssl, credentials->key) != 1 ||
      SSL_set1_chain(ssl, credentials->chain) != 1) {
    return 0;
  }
  if (credentials->client_ca != nullptr) {
    // A certificate is asked for, and if one is sent it must verify. Without require_client_cert
    // none at all is allowed too, and the caller decides (verified_client).
    SSL_set1_verify_cert_store(ssl, credentials->client_ca);
    SSL_set_verify(ssl, SSL_VERIFY_PEER | (self->require_client_cert_ ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0),
                   nullptr);
  }
  return 1;
}

bool verified_client(const httplib::Request& req) {
  if (req.ssl == nullptr) return false;
  X509* peer = SSL_get_peer_certificate(req.ssl);
  if (peer == nullptr) return false;
  X509_free(peer);
  return SSL_get_verify_result(req.ssl) == X509_V_OK;
}

bool loopback_peer(const httplib::Request& req) {
  const std::string& a = req.remote_addr;
  return a.rfind("127.", 0) == 0 || a == "::1" || a.rfind("::ffff:127.", 0) == 0;
}

std::string ControlAccess::refuse(const httplib::Request& req) const {
  if (client_certs) {
    return verified_client(req) ? "" : "a client certificate signed by the configured CA is required";
  }
  if (tls || insecure || loopback_peer(req)) return "";
  return "the control API answers only this machine without TLS (configure certificates, or allow insecure "
         "control explicitly)";
}

}  // namespace lms::control
