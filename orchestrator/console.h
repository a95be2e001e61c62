// The migration console: static pages (HTML, CSS, JavaScript modules and Debian's Chart.js) that
// the orchestrator serves at / on its API port, under the API's own access rules. They hold no
// secret and call only the API, so a browser sees exactly what lms-cli sees.
#pragma once

#include <string>

namespace httplib {
class Server;
}

namespace lms::orchestrator {

// Where the console's files are: `configured` when given, else beside the binary in a build tree
// (orchestrator/console/) or in an installed one (PREFIX/share/lms/console/). "" when none exists.
std::string find_console_dir(const std::string& configured);

// Serves the files under `dir` at /.
bool mount_console(httplib::Server& server, const std::string& dir);

}  // namespace lms::orchestrator
