// A first-in first-out queue over one growing ring of slots, for queues that fill and empty
// all the time but stay short (the requests a session has in flight: mostly one or none). Unlike
// std::deque, which gives back and takes a block of memory as its ends cross block boundaries,
// a ring that has grown to a size keeps it: pushing and popping never allocate after the first.
//
// A popped slot keeps its (moved-from) element until the slot is pushed again; references to
// elements stay valid until the next push (which may grow the ring) or their pop.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace lms::core {

template <typename T>
class RingQueue {
 public:
  bool empty() const { return count_ == 0; }
  size_t size() const { return count_; }
  T& front() { return slots_[head_]; }
  const T& front() const { return slots_[head_]; }
  T& back() { return at(count_ - 1); }
  const T& back() const { return at(count_ - 1); }

  // A fresh element (value-initialized) at the back.
  T& emplace_back() {
    if (count_ == slots_.size()) grow();
    T& slot = at(count_);
    slot = T{};
    ++count_;
    return slot;
  }
  void pop_front() {
    head_ = (head_ + 1) & (slots_.size() - 1);
    --count_;
  }

  template <typename Ring, typename Value>
  class Iterator {
   public:
    Iterator(Ring* ring, size_t index) : ring_(ring), index_(index) {}
    Value& operator*() const { return ring_->at(index_); }
    Value* operator->() const { return &ring_->at(index_); }
    Iterator& operator++() {
      ++index_;
      return *this;
    }
    bool operator==(const Iterator& other) const { return index_ == other.index_; }

   private:
    Ring* ring_;
    size_t index_;  // from the front
  };
  using iterator = Iterator<RingQueue, T>;
  using const_iterator = Iterator<const RingQueue, const T>;
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, count_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, count_}; }

  // The element `index` places from the front.
  T& at(size_t index) { return slots_[(head_ + index) & (slots_.size() - 1)]; }
  const T& at(size_t index) const { return slots_[(head_ + index) & (slots_.size() - 1)]; }

 private:
  void grow() {
    // Twice the size (a power of two, so a mask wraps), the elements moved to the start in order.
    std::vector<T> bigger(slots_.empty() ? 4 : slots_.size() * 2);
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move(at(i));
    slots_ = std::move(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t count_ = 0;
};

}  // namespace lms::core
