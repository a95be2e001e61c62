// The orchestrator's HTTP API, which lms-cli (and a web console) call: proxies' status and
// connections, and the cutover steps. JSON in and out; errors are {"error": "..."} with a 4xx/5xx.
#pragma once

#include <memory>

#include "coordinator.h"

namespace httplib {
class Server;
}

namespace lms::orchestrator {

// Adds the API's routes to `server`.
void add_api_routes(httplib::Server& server, Coordinator& coordinator);

}  // namespace lms::orchestrator
