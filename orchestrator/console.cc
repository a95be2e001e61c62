#include "console.h"

#include <httplib.h>

#include <filesystem>
#include <system_error>

namespace lms::orchestrator {

std::string find_console_dir(const std::string& configured) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!configured.empty()) return fs::is_regular_file(fs::path(configured) / "index.html", ec) ? configured : "";
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  // build/orchestrator/lms-orchestrator -> build/orchestrator/console;
  // PREFIX/bin/lms-orchestrator -> PREFIX/share/lms/console
  for (const fs::path& dir : {exe.parent_path() / "console", exe.parent_path().parent_path() / "share/lms/console"}) {
    if (fs::is_regular_file(dir / "index.html", ec)) return dir.string();
  }
  return "";
}

bool mount_console(httplib::Server& server, const std::string& dir) {
  // The pages load only what they ship (no CDN, nothing inline), may not be framed by another
  // site, and are fetched again after an upgrade rather than served stale from a cache.
  const httplib::Headers headers{
      {"Content-Security-Policy",
       "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"Cache-Control", "no-cache"},
  };
  server.set_file_extension_and_mimetype_mapping("js", "text/javascript");
  return server.set_mount_point("/", dir, headers);
}

}  // namespace lms::orchestrator
