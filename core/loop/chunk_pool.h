// Fixed-size buffers that carry bytes from one socket's read straight into the other socket's
// write, with no copy in between. A chunk holds its own uv_write_t, so a write allocates nothing.
// One pool per worker loop; only that loop's thread touches it.
#pragma once

#include <uv.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

namespace lms::core {

struct Chunk {
  static constexpr size_t kCapacity = 64 * 1024;
  uv_write_t write_req;  // write_req.data points at whoever waits for the write
  size_t len = 0;        // bytes in data, for the write in flight
  uint8_t data[kCapacity];
};

class ChunkPool {
 public:
  // Idle chunks kept for reuse; beyond that they go back to the allocator, so a burst does not pin
  // memory forever.
  static constexpr size_t kMaxIdle = 32;

  ~ChunkPool() {
    for (Chunk* c : idle_) delete c;
  }
  Chunk* get() {
    if (idle_.empty()) return new Chunk;
    Chunk* c = idle_.back();
    idle_.pop_back();
    return c;
  }
  void put(Chunk* c) {
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(c);
    } else {
      delete c;
    }
  }

 private:
  std::vector<Chunk*> idle_;
};

// Hands bytes that were kept aside (what arrived before a handshake or a switch was over) to
// `sink(chunk, len)` in as many chunks as they need, the way reads would have delivered them:
// nothing is cut at a chunk's size.
template <typename Sink>
void deliver_in_chunks(ChunkPool& pool, std::string_view bytes, Sink&& sink) {
  for (size_t at = 0; at < bytes.size();) {
    Chunk* chunk = pool.get();
    const size_t n = std::min(bytes.size() - at, Chunk::kCapacity);
    std::memcpy(chunk->data, bytes.data() + at, n);
    at += n;
    sink(chunk, n);
  }
}

}  // namespace lms::core
