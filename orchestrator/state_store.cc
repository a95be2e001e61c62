#include "state_store.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "durable_file.h"

namespace lms::orchestrator {

FileStateStore::FileStateStore(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/cutover-state.json") {}

bool FileStateStore::load(std::vector<Attempt>* attempts, std::string* error) {
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return true;  // a first start
    *error = path_ + ": " + std::strerror(errno);
    return false;
  }
  std::stringstream text;
  text << in.rdbuf();
  try {
    const auto j = nlohmann::json::parse(text.str());
    j.at("attempts").get_to(*attempts);
    return true;
  } catch (const std::exception& e) {
    *error = path_ + ": not a cutover history this orchestrator can read: " + e.what();
    return false;
  }
}

bool FileStateStore::save(const std::vector<Attempt>& attempts, std::string* error) {
  const std::string text = nlohmann::json{{"version", 1}, {"attempts", attempts}}.dump(2) + "\n";
  return control::replace_file_durably(path_, text, error);
}

}  // namespace lms::orchestrator
