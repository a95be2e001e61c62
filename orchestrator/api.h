// The orchestrator's HTTP API, which lms-cli and the console call: proxies' status and
// connections, and the cutover steps. JSON in and out; errors are {"error": "..."} with a 4xx/5xx.
#pragma once

#include <memory>

#include "coordinator.h"
#include "metrics_history.h"

namespace httplib {
class Server;
}

namespace lms::orchestrator {

// Adds the API's routes to `server`: the proxies' status and connections, the cutover steps and
// history, and for the console the merged compatibility report and the metrics history.
void add_api_routes(httplib::Server& server, Coordinator& coordinator, MetricsHistory& history,
                    uint32_t sample_interval_ms);

}  // namespace lms::orchestrator
