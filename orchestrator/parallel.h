// Runs one call per proxy at once: the orchestrator waits for the slowest proxy, not for the sum.
#pragma once

#include <cstddef>
#include <future>
#include <vector>

namespace lms::orchestrator {

// Runs fn(i) for every index in parallel and waits for all.
template <typename Fn>
void for_each_parallel(size_t n, Fn&& fn) {
  std::vector<std::future<void>> done;
  done.reserve(n);
  for (size_t i = 0; i < n; ++i) done.push_back(std::async(std::launch::async, [&fn, i] { fn(i); }));
  for (auto& f : done) f.get();
}

}  // namespace lms::orchestrator
