#include "fleet_views.h"

#include "compat_report.h"
#include "parallel.h"

namespace lms::orchestrator {

nlohmann::json merged_report(const std::vector<std::string>& urls, const FleetAccess& access) {
  std::vector<std::string> texts(urls.size());
  std::vector<std::string> errors(urls.size());
  for_each_parallel(urls.size(), [&](size_t i) {
    ProxyClient client(urls[i], access.tls, access.timeout_ms);
    client.shadow_report(&texts[i], &errors[i]);
  });
  core::CompatReport merged;
  std::string shadow_mode;
  nlohmann::json proxies = nlohmann::json::array();
  for (size_t i = 0; i < urls.size(); ++i) {
    std::string mode;
    if (errors[i].empty()) core::parse_report_json(texts[i], &merged, &mode, &errors[i]);
    // Proxies configured alike agree; when they do not, the console says so rather than pick one.
    if (errors[i].empty()) shadow_mode = shadow_mode.empty() || shadow_mode == mode ? mode : "mixed";
    proxies.push_back({{"control_address", urls[i]}, {"error", errors[i]}});
  }
  nlohmann::json out = nlohmann::json::parse(core::render_report_json(merged, shadow_mode));
  out["proxies"] = std::move(proxies);
  return out;
}

std::vector<Scrape> read_scrapes(const std::vector<std::string>& urls, const FleetAccess& access) {
  std::vector<Scrape> scrapes(urls.size());
  std::vector<bool> answered(urls.size(), false);
  for_each_parallel(urls.size(), [&](size_t i) {
    ProxyClient client(urls[i], access.tls, access.timeout_ms);
    control::Status status;
    std::string text, error;
    if (!client.status(&status, &error) || !client.metrics(&text, &error)) return;
    scrapes[i] = parse_scrape(text);
    scrapes[i].control_address = urls[i];
    scrapes[i].role = status.source_of_truth_role;
    answered[i] = true;
  });
  std::vector<Scrape> out;
  for (size_t i = 0; i < urls.size(); ++i) {
    if (answered[i]) out.push_back(std::move(scrapes[i]));
  }
  return out;
}

}  // namespace lms::orchestrator
