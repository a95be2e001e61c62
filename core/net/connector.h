// Connects a TCP handle to a database's endpoint on one loop: looks its host up first unless the
// endpoint already holds an address, then connects, and sets TCP_NODELAY. The one copy of that,
// for a session's connection to the source of truth and a shadow link's to the other database.
//
// The owner keeps the handle (it reads and writes it afterwards) and its deadline; the connector
// keeps the requests in flight. A DNS lookup cannot be taken back, only cancelled, and its
// callback comes even after the owner closed its handles, so the owner waits for it: it counts the
// lookup as pending while lookup_in_flight() and lets go at on_lookup_finished. Runs on the
// owner's loop only.
#pragma once

#include <uv.h>

#include <string>

#include "endpoint.h"

namespace lms::core {

class Connector {
 public:
  class Listener {
   public:
    // The handle is connected.
    virtual void on_connected() = 0;
    // The lookup or the connect failed; `reason` says why, for a log line and the client's error.
    virtual void on_connect_failed(const std::string& reason) = 0;
    // The lookup's callback came (after on_connected or on_connect_failed, or after cancel()).
    // Called last: the owner may destroy itself, and the connector with it.
    virtual void on_lookup_finished() = 0;

   protected:
    ~Listener() = default;
  };

  explicit Connector(Listener& listener) : listener_(listener) {}
  Connector(const Connector&) = delete;
  Connector& operator=(const Connector&) = delete;

  // Starts connecting `socket` (initialized, not yet connected) to `endpoint`. A failure to even
  // start is reported through on_connect_failed before this returns.
  void start(uv_loop_t* loop, uv_tcp_t* socket, const Endpoint& endpoint);
  // The owner is closing: nothing more is reported but on_lookup_finished for a lookup in flight.
  void cancel();
  bool lookup_in_flight() const { return resolving_; }

 private:
  static void on_resolved(uv_getaddrinfo_t* req, int status, addrinfo* result);
  static void on_connect(uv_connect_t* req, int status);
  void connect_to(const sockaddr* address);

  Listener& listener_;
  uv_tcp_t* socket_ = nullptr;
  std::string host_;  // for the error of a failed lookup
  uv_getaddrinfo_t resolve_req_{};
  uv_connect_t connect_req_{};
  bool resolving_ = false;
  bool cancelled_ = false;
};

}  // namespace lms::core
