#include "cancel_sender.h"

#include <spdlog/spdlog.h>

namespace lms::core {
namespace {

struct CancelSender {
  uv_tcp_t socket{};
  uv_connect_t connect_req{};
  uv_write_t write_req{};
  std::vector<uint8_t> packet;

  void close() {
    uv_close(reinterpret_cast<uv_handle_t*>(&socket),
             [](uv_handle_t* h) { delete static_cast<CancelSender*>(h->data); });
  }
};

}  // namespace

void send_cancel(uv_loop_t* loop, const sockaddr_storage& address, std::vector<uint8_t> packet) {
  auto* sender = new CancelSender;
  sender->packet = std::move(packet);
  uv_tcp_init(loop, &sender->socket);
  sender->socket.data = sender;
  sender->connect_req.data = sender;
  const int rc = uv_tcp_connect(
      &sender->connect_req, &sender->socket, reinterpret_cast<const sockaddr*>(&address),
      [](uv_connect_t* req, int status) {
        auto* s = static_cast<CancelSender*>(req->data);
        if (status < 0) {
          if (status != UV_ECANCELED) spdlog::warn("cancel request not delivered: {}", uv_strerror(status));
          s->close();
          return;
        }
        uv_buf_t buf =
            uv_buf_init(reinterpret_cast<char*>(s->packet.data()), static_cast<unsigned>(s->packet.size()));
        s->write_req.data = s;
        const int wrc = uv_write(&s->write_req, reinterpret_cast<uv_stream_t*>(&s->socket), &buf, 1,
                                 [](uv_write_t* w, int) { static_cast<CancelSender*>(w->data)->close(); });
        if (wrc < 0) s->close();
      });
  if (rc < 0) {
    spdlog::warn("cancel request not delivered: {}", uv_strerror(rc));
    sender->close();
  }
}

}  // namespace lms::core
