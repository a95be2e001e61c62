// The control thread's one way to ask every worker loop something: post the task to each loop's
// mailbox and wait for the answers. The control thread never touches a loop's state itself; a loop
// that does not answer within kWorkerAnswerTimeout is left out, and the caller is told.
#pragma once

#include <chrono>
#include <future>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "loop/worker.h"

namespace lms::core {

// Long past what a loop needs between two events even under a burst of traffic, short enough that
// an operator's call (a cutover step, `connections list`, the shadow report) fails rather than
// hangs behind a stuck loop, and below the orchestrator's own 5 s wait for a proxy.
inline constexpr auto kWorkerAnswerTimeout = std::chrono::seconds(4);

template <typename T>
struct WorkerAnswers {
  std::vector<T> answers;  // one per loop that answered in time, in the workers' order
  bool all_answered = true;
};

// Runs `task(worker)` on each worker's own thread and collects what it returns.
template <typename Task>
auto ask_every_worker(const std::vector<Worker*>& workers, Task task)
    -> WorkerAnswers<std::invoke_result_t<Task&, Worker&>> {
  using Answer = std::invoke_result_t<Task&, Worker&>;
  std::vector<std::future<Answer>> pending;
  pending.reserve(workers.size());
  for (Worker* w : workers) {
    auto promise = std::make_shared<std::promise<Answer>>();
    pending.push_back(promise->get_future());
    w->post([w, task, promise]() mutable { promise->set_value(task(*w)); });
  }
  WorkerAnswers<Answer> out;
  for (auto& answer : pending) {
    if (answer.wait_for(kWorkerAnswerTimeout) == std::future_status::ready) {
      out.answers.push_back(answer.get());
    } else {
      out.all_answered = false;
    }
  }
  return out;
}

// The same for a task that answers nothing: true when every loop ran it in time.
template <typename Task>
bool run_on_every_worker(const std::vector<Worker*>& workers, Task task) {
  return ask_every_worker(workers,
                          [task](Worker& w) mutable {
                            task(w);
                            return true;
                          })
      .all_answered;
}

}  // namespace lms::core
