// Delivers one cancel request to a database on a connection of its own, then forgets it: the
// protocol sends no answer. Owns itself until its socket has closed.
#pragma once

#include <sys/socket.h>
#include <uv.h>

#include <cstdint>
#include <vector>

namespace lms::core {

void send_cancel(uv_loop_t* loop, const sockaddr_storage& address, std::vector<uint8_t> packet);

}  // namespace lms::core
