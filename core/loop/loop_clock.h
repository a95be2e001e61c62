// The time as of this turn of a worker's event loop, for what the data path measures (request
// latency, the wait for a pooled connection). Reading the clock for every request and every lend
// cost four clock_gettime calls per pooled transaction, a twentieth of the proxy's user-space time;
// here the clock is read at most once in each stretch of callbacks, as PgBouncer keeps one time
// per loop iteration.
//
// The reading goes stale before the loop blocks for I/O (a prepare handle) and after the I/O
// callbacks have run (a check handle), so no time is carried across a wait, and timers see a time
// of their own. What is measured is late by at most the time the loop spent on earlier callbacks
// of the same stretch.
#pragma once

#include <uv.h>

#include <cstdint>

namespace lms::core {

class LoopClock {
 public:
  // Starts its two handles on `loop` (which they do not keep alive).
  void open(uv_loop_t* loop);
  // Closes them; the loop must run once more for the close to finish.
  void close();

  // Nanoseconds of the monotonic clock uv_hrtime reads.
  uint64_t now_ns() {
    if (!fresh_) {
      now_ns_ = uv_hrtime();
      fresh_ = open_;  // without its handles (before open, after close) every call reads the clock
    }
    return now_ns_;
  }

 private:
  static void on_before_poll(uv_prepare_t* handle);
  static void on_after_io(uv_check_t* handle);

  uv_prepare_t before_poll_{};
  uv_check_t after_io_{};
  bool open_ = false;
  bool fresh_ = false;
  uint64_t now_ns_ = 0;
};

}  // namespace lms::core
