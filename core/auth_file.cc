#include "auth_file.h"

#include <fstream>

namespace lms::core {
namespace {

// A double-quoted field; "" inside stands for one quote. Advances `at` past it.
std::optional<std::string> quoted(const std::string& line, size_t& at) {
  while (at < line.size() && (line[at] == ' ' || line[at] == '\t')) ++at;
  if (at >= line.size() || line[at] != '"') return std::nullopt;
  std::string out;
  for (++at; at < line.size(); ++at) {
    if (line[at] != '"') {
      out.push_back(line[at]);
    } else if (at + 1 < line.size() && line[at + 1] == '"') {
      out.push_back('"');
      ++at;
    } else {
      ++at;
      return out;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<AuthUsers> read_auth_file(const std::string& path, std::string* error) {
  std::ifstream in(path);
  if (!in) {
    *error = "cannot read the auth file " + path;
    return std::nullopt;
  }
  AuthUsers users;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == ';' || line[first] == '#') continue;
    const std::string where = path + " line " + std::to_string(number);
    size_t at = 0;
    auto name = quoted(line, at);
    auto secret = name ? quoted(line, at) : std::nullopt;
    if (!name || !secret || name->empty()) {
      *error = where + ": expected \"user\" \"SCRAM-SHA-256$...\"";
      return std::nullopt;
    }
    if (secret->rfind("SCRAM-SHA-256$", 0) != 0) {
      // Never echo the value: it may be a password.
      *error =
          where + ": user " + *name + " has no SCRAM-SHA-256 verifier (passwords and MD5 hashes are refused)";
      return std::nullopt;
    }
    users.emplace_back(std::move(*name), std::move(*secret));
  }
  if (users.empty()) {
    *error = "the auth file " + path + " lists no user";
    return std::nullopt;
  }
  return users;
}

}  // namespace lms::core
