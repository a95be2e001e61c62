// TLS over a socket the event loop owns, through OpenSSL memory BIOs: the loop reads ciphertext
// and hands it in; plaintext comes out for the session; what the session writes goes in as
// plaintext and comes out as ciphertext for the loop to write. No thread, no blocking call, and
// the session above sees the same byte stream it would see without TLS.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace lms::core {

class TlsChannel {
 public:
  enum class Role { kServer, kClient };
  // `ctx` is borrowed and must outlive the channel. For a client, `verify_host` (a name or an
  // address literal) is checked against the server's certificate when not empty, and `sni` is
  // sent when it is a name.
  TlsChannel(SSL_CTX* ctx, Role role, const std::string& verify_host = "");
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  // Ciphertext read from the socket.
  void receive(const uint8_t* data, size_t len);
  // Decrypts into buf; returns the bytes written, 0 when nothing more is available now. On a
  // broken channel returns 0 and failed() is true. Drives the handshake too.
  size_t read_plain(uint8_t* buf, size_t cap);
  // Encrypts plaintext to send (queued inside until the handshake has finished).
  void send(const uint8_t* data, size_t len);
  // Ciphertext waiting to be written to the socket, and taking it (up to cap bytes).
  size_t output_pending() const;
  size_t take_output(uint8_t* buf, size_t cap);

  bool established() const { return established_; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Plaintext (or ciphertext not yet decrypted) is waiting inside: read_plain has more to give.
  bool has_buffered() const;
  // The peer sent close_notify.
  bool closed_by_peer() const { return closed_by_peer_; }

 private:
  void advance_handshake();
  void flush_pending_plain();
  void fail(const char* what);

  SSL* ssl_ = nullptr;
  BIO* in_ = nullptr;   // ciphertext from the socket, read by OpenSSL
  BIO* out_ = nullptr;  // ciphertext from OpenSSL, to the socket
  bool established_ = false;
  bool closed_by_peer_ = false;
  std::string pending_plain_;  // written before the handshake finished
  std::string error_;
};

}  // namespace lms::core
