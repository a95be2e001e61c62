// lms: one proxy instance. Parses its configuration, starts, and runs until SIGINT (stop now) or
// SIGTERM (drain the sessions first).
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>

#include "config.h"
#include "log.h"
#include "proxy.h"

namespace {

// Every client costs two descriptors (its socket and its database's); the usual soft limit of 1024
// would cap a proxy near 500 clients. Raise it to the hard limit, which is the operator's to set.
void raise_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace lms::core;
  raise_file_limit();
  // A peer that closes while we write must be an error code, not a killed process.
  signal(SIGPIPE, SIG_IGN);
  init_logging();

  std::string error;
  const auto command_line = parse_command_line(argc, argv, &error);
  if (!command_line) {
    std::fprintf(stderr, "lms: %s\n", error.c_str());
    return 2;
  }
  if (command_line->help) {
    std::fputs(usage().c_str(), stdout);
    return 0;
  }
  if (command_line->version) {
    std::printf("lms %s\n", LMS_VERSION);
    return 0;
  }
  auto config = load_config(*command_line, &error);
  if (!config) {
    std::fprintf(stderr, "lms: %s\n", error.c_str());
    return 2;
  }
  set_log_level(config->log_level);

  // Only this thread takes the stop signals; every thread started from here inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Proxy proxy(std::move(*config));
  if (!proxy.start(&error)) {
    spdlog::error("{}", error);
    return 1;
  }
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  if (signal_number == SIGTERM) {
    // Kubernetes stops a pod with SIGTERM: finish what clients started, then go.
    spdlog::info("received SIGTERM, draining");
    proxy.drain([&stop_signals](uint32_t wait_ms) {
      const timespec wait = {static_cast<time_t>(wait_ms / 1000),
                             static_cast<long>(wait_ms % 1000) * 1000000};
      return sigtimedwait(&stop_signals, nullptr, &wait) > 0;
    });
  } else {
    spdlog::info("received SIGINT, stopping");
  }
  proxy.stop();
  return 0;
}
