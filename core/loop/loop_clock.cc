#include "loop/loop_clock.h"

namespace lms::core {

void LoopClock::open(uv_loop_t* loop) {
  if (open_) return;
  uv_prepare_init(loop, &before_poll_);
  before_poll_.data = this;
  uv_prepare_start(&before_poll_, &LoopClock::on_before_poll);
  uv_unref(reinterpret_cast<uv_handle_t*>(&before_poll_));
  uv_check_init(loop, &after_io_);
  after_io_.data = this;
  uv_check_start(&after_io_, &LoopClock::on_after_io);
  uv_unref(reinterpret_cast<uv_handle_t*>(&after_io_));
  open_ = true;
}

void LoopClock::close() {
  if (!open_) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&before_poll_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&after_io_), nullptr);
  open_ = false;
  fresh_ = false;
}

void LoopClock::on_before_poll(uv_prepare_t* handle) {
  static_cast<LoopClock*>(handle->data)->fresh_ = false;
}

void LoopClock::on_after_io(uv_check_t* handle) { static_cast<LoopClock*>(handle->data)->fresh_ = false; }

}  // namespace lms::core
