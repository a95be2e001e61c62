// The auth file: who may log in to the proxy, as user names and SCRAM-SHA-256 verifiers in
// PostgreSQL's stored form, one per line in PgBouncer's userlist syntax:
//
//   "alice" "SCRAM-SHA-256$4096:<salt>$<StoredKey>:<ServerKey>"
//
// Blank lines and lines starting with ';' or '#' are skipped. A password in clear or an MD5 hash
// is refused: the file must never hold anything a reader could log in with elsewhere.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace lms::core {

using AuthUsers = std::vector<std::pair<std::string, std::string>>;  // name, verifier

// Fails with *error naming the line.
std::optional<AuthUsers> read_auth_file(const std::string& path, std::string* error);

}  // namespace lms::core
