#include "net/connector.h"

#include <netdb.h>

namespace lms::core {

void Connector::start(uv_loop_t* loop, uv_tcp_t* socket, const Endpoint& endpoint) {
  socket_ = socket;
  cancelled_ = false;
  if (endpoint.address) {
    connect_to(reinterpret_cast<const sockaddr*>(&*endpoint.address));
    return;
  }
  host_ = endpoint.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  resolve_req_.data = this;
  const int rc = uv_getaddrinfo(loop, &resolve_req_, &Connector::on_resolved, endpoint.host.c_str(),
                                std::to_string(endpoint.port).c_str(), &hints);
  if (rc < 0) {
    listener_.on_connect_failed("cannot resolve " + host_ + ": " + uv_strerror(rc));
    return;
  }
  resolving_ = true;
}

void Connector::cancel() {
  cancelled_ = true;
  if (resolving_) uv_cancel(reinterpret_cast<uv_req_t*>(&resolve_req_));
}

void Connector::on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result) {
  auto* c = static_cast<Connector*>(req->data);
  c->resolving_ = false;
  if (!c->cancelled_) {
    if (status < 0 || result == nullptr) {
      c->listener_.on_connect_failed("cannot resolve " + c->host_ + ": " + uv_strerror(status));
    } else {
      c->connect_to(result->ai_addr);
    }
  }
  uv_freeaddrinfo(result);
  c->listener_.on_lookup_finished();  // last: the owner may be gone after it
}

void Connector::connect_to(const sockaddr* address) {
  connect_req_.data = this;
  const int rc = uv_tcp_connect(&connect_req_, socket_, address, &Connector::on_connect);
  if (rc < 0) listener_.on_connect_failed(uv_strerror(rc));
}

void Connector::on_connect(uv_connect_t* req, int status) {
  auto* c = static_cast<Connector*>(req->data);
  // A handle closed while connecting answers UV_ECANCELED: its owner is going away.
  if (status == UV_ECANCELED || c->cancelled_) return;
  if (status < 0) {
    c->listener_.on_connect_failed(uv_strerror(status));
    return;
  }
  uv_tcp_nodelay(c->socket_, 1);
  c->listener_.on_connected();
}

}  // namespace lms::core
