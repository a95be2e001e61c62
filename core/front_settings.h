// What every new client's front handshake is made with: the auth method, who may log in (the source
// connection string's user and password, or users and their verifiers) and TLS. Published whole:
// with auth-query the users are read again while sessions are being made, and each session reads
// one snapshot (an atomic shared pointer: no lock where clients connect).
#pragma once

#include <lms/plugin.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace lms::core {

using AuthUsers = std::vector<std::pair<std::string, std::string>>;  // name, stored verifier

class FrontSettings {
 public:
  // `base`: every setting but the users; `users` become auth_user / auth_verifier pairs.
  FrontSettings(std::vector<std::pair<std::string, std::string>> base, const AuthUsers& users);
  const std::vector<lms_kv>& kvs() const { return kvs_; }
  const AuthUsers& users() const { return users_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
  std::vector<lms_kv> kvs_;  // views of values_, which never changes after construction
  AuthUsers users_;
};

}  // namespace lms::core
