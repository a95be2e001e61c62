#include "state_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace lms::orchestrator {
namespace {

bool write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

StateStore::StateStore(std::string dir) : dir_(std::move(dir)), path_(dir_ + "/cutover-state.json") {}

bool StateStore::load(std::vector<Attempt>* attempts, std::string* error) {
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

bool StateStore::save(const std::vector<Attempt>& attempts, std::string* error) {
  const std::string text = nlohmann::json{{"version", 1}, {"attempts", attempts}}.dump(2) + "\n";
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = tmp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = write_all(fd, text) && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!written) {
    *error = tmp + ": " + std::strerror(saved_errno);
    return false;
  }
  if (::rename(tmp.c_str(), path_.c_str()) != 0) {
    *error = path_ + ": " + std::strerror(errno);
    return false;
  }
  // The rename itself is durable only once the directory is.
  const int dir_fd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return true;
}

}  // namespace lms::orchestrator
