// What the console shows of every proxy beyond the cutover itself: their compatibility reports
// merged into one, and their metrics read for the history. Each proxy is asked in parallel; one
// that does not answer is named, never waited for past the proxy timeout.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "metrics_history.h"
#include "proxy_client.h"

namespace lms::orchestrator {

struct FleetAccess {
  TlsFiles tls;
  uint32_t timeout_ms = 5000;
};

// The proxies' reports as one, rendered as a proxy renders its own, plus "proxies": each address
// with the error it gave ("" when it answered).
nlohmann::json merged_report(const std::vector<std::string>& urls, const FleetAccess& access);

// One read of every proxy's metrics and source of truth; proxies that fail are left out.
std::vector<Scrape> read_scrapes(const std::vector<std::string>& urls, const FleetAccess& access);

}  // namespace lms::orchestrator
