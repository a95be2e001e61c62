#include "tls_channel.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>

namespace lms::core {
namespace {

std::string describe_errors(const char* what) {
  std::string text = what;
  while (const unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    text += ": ";
    text += buf;
  }
  return text;
}

bool is_address(const std::string& host) {
  in6_addr v6{};
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 || inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

}  // namespace

TlsChannel::TlsChannel(SSL_CTX* ctx, Role role, const std::string& verify_host) {
  ssl_ = SSL_new(ctx);
  in_ = BIO_new(BIO_s_mem());
  out_ = BIO_new(BIO_s_mem());
  if (ssl_ == nullptr || in_ == nullptr || out_ == nullptr) {
    BIO_free(in_);
    BIO_free(out_);
    in_ = out_ = nullptr;
    fail("cannot create a TLS session");
    return;
  }
  // The BIO_s_mem read side reports "retry" rather than end of file when empty.
  BIO_set_mem_eof_return(in_, -1);
  SSL_set_bio(ssl_, in_, out_);  // ssl_ owns both now
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl_);
    return;
  }
  SSL_set_connect_state(ssl_);
  if (!verify_host.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    const int ok = is_address(verify_host) ? X509_VERIFY_PARAM_set1_ip_asc(param, verify_host.c_str())
                                           : X509_VERIFY_PARAM_set1_host(param, verify_host.c_str(), 0);
    if (ok != 1) fail("cannot set the host name to verify");
  }
  if (!verify_host.empty() && !is_address(verify_host)) SSL_set_tlsext_host_name(ssl_, verify_host.c_str());
  advance_handshake();  // the ClientHello
}

TlsChannel::~TlsChannel() {
  if (ssl_ != nullptr) SSL_free(ssl_);
}

void TlsChannel::fail(const char* what) {
  if (error_.empty()) error_ = describe_errors(what);
  ERR_clear_error();
}

void TlsChannel::advance_handshake() {
  if (established_ || failed() || ssl_ == nullptr) return;
  const int rc = SSL_do_handshake(ssl_);
  if (rc == 1) {
    established_ = true;
    flush_pending_plain();
    return;
  }
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return;
  const long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    error_ = std::string("certificate verification failed: ") + X509_verify_cert_error_string(verify);
    ERR_clear_error();
    return;
  }
  fail("TLS handshake failed");
}

void TlsChannel::receive(const uint8_t* data, size_t len) {
  if (failed() || ssl_ == nullptr) return;
  BIO_write(in_, data, static_cast<int>(len));
  advance_handshake();
}

size_t TlsChannel::read_plain(uint8_t* buf, size_t cap) {
  if (failed() || ssl_ == nullptr) return 0;
  if (!established_) {
    advance_handshake();
    if (!established_) return 0;
  }
  size_t n = 0;
  const int rc = SSL_read_ex(ssl_, buf, cap, &n);
  if (rc == 1) return n;
  const int err = SSL_get_error(ssl_, rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  if (err == SSL_ERROR_ZERO_RETURN) {
    closed_by_peer_ = true;
    return 0;
  }
  fail("TLS read failed");
  return 0;
}

void TlsChannel::send(const uint8_t* data, size_t len) {
  if (failed() || ssl_ == nullptr || len == 0) return;
  if (!established_) {
    pending_plain_.append(reinterpret_cast<const char*>(data), len);
    return;
  }
  size_t written = 0;
  // Memory BIOs never push back: one call takes it all.
  if (SSL_write_ex(ssl_, data, len, &written) != 1 || written != len) fail("TLS write failed");
}

void TlsChannel::flush_pending_plain() {
  if (pending_plain_.empty()) return;
  const std::string plain = std::move(pending_plain_);
  pending_plain_.clear();
  send(reinterpret_cast<const uint8_t*>(plain.data()), plain.size());
}

size_t TlsChannel::output_pending() const { return out_ == nullptr ? 0 : BIO_ctrl_pending(out_); }

size_t TlsChannel::take_output(uint8_t* buf, size_t cap) {
  if (out_ == nullptr || cap == 0) return 0;
  const int n = BIO_read(out_, buf, static_cast<int>(std::min<size_t>(cap, INT32_MAX)));
  return n > 0 ? static_cast<size_t>(n) : 0;
}

bool TlsChannel::has_buffered() const {
  return ssl_ != nullptr && (SSL_pending(ssl_) > 0 || (in_ != nullptr && BIO_ctrl_pending(in_) > 0));
}

}  // namespace lms::core
