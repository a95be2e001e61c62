// What every worker loop shares with the others and with the control thread: the configuration,
// the two databases by role, the plugins, and the few things written while running (the source of
// truth, the cancel registry, the open-session count), each of which says who writes it. Apart
// from the loop that hosts the sessions, so that what reads it needs no loop.
#pragma once

#include <lms/plugin.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "cancel_registry.h"
#include "config.h"
#include "endpoint.h"
#include "front_settings.h"
#include "tls_context.h"
#include "validation.h"

namespace lms::core {

class CutoverController;

// The two databases by the role the configuration gives them; which one is the source of truth
// changes with each committed cutover.
enum Role : uint8_t { kSourceRole = 0, kTargetRole = 1 };

// What every worker shares, read-only once the workers run (but for the atomics and the registry).
struct ProxyShared {
  const Config* config = nullptr;
  const lms_dialect_functions* dialect = nullptr;  // the source's dialect: the clients' protocol
  const Endpoint* source = nullptr;
  // Set when a target is configured: shadowing and cutover need it. The shadow plugin decides
  // each request.
  const lms_dialect_functions* target_dialect = nullptr;
  const Endpoint* target = nullptr;
  // Which database serves. Written only by the cutover controller while every worker is paused;
  // a session reads it when it connects or switches.
  std::atomic<uint8_t> truth{kSourceRole};
  CutoverController* cutover = nullptr;

  const Endpoint& endpoint(uint8_t role) const { return role == kTargetRole ? *target : *source; }
  const lms_dialect_functions* dialect_of(uint8_t role) const {
    return role == kTargetRole ? target_dialect : dialect;
  }
  // The target speaks another protocol than the clients: its connections go through a
  // Translation (a MySQL client, a CockroachDB target).
  bool target_translated = false;
  bool translated(uint8_t role) const { return role == kTargetRole && target_translated; }
  const lms_shadow_functions* shadow = nullptr;
  void* shadow_state = nullptr;
  // What each client's handshake is made with (auth method, who may log in, TLS); replaced whole
  // when auth-query reads the users again.
  std::atomic<std::shared_ptr<const FrontSettings>> front_settings;
  ValidationSettings validation;
  const ClientTls* client_tls = nullptr;  // TLS with clients; never null once running
  CancelRegistry cancels;
  std::atomic<uint32_t> open_sessions{0};
};

}  // namespace lms::core
