// A client of one protocol served by a database of another (a MySQL client, a CockroachDB
// target): every request the client sends is decoded by the client's dialect into the SDK's
// neutral model and encoded by the database's dialect; every answer goes the other way. The core
// sees neither protocol's bytes: it only carries them between the two plugins.
//
// One per database connection that needs it (the session's, a shadow link's). Memory is bounded
// by the largest single message either side sends, which each dialect caps.
#pragma once

#include <lms/plugin.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lms::core {

class Translation {
 public:
  // `statements`: what the client prepared before this connection existed (by name, the
  // client's messages that made each one), which the database is to learn on first use.
  Translation(const lms_dialect_functions* client, const lms_dialect_functions* database,
              const std::vector<std::pair<std::string, std::string>>& startup,
              const std::vector<std::pair<std::string, std::string>>& statements);
  ~Translation();
  Translation(const Translation&) = delete;
  Translation& operator=(const Translation&) = delete;

  bool valid() const { return translator_ != nullptr && decoder_ != nullptr; }
  // Client bytes in, the database's protocol out in *out, which stays valid until the next call
  // (one buffer, reused). False when the client's stream is broken: *error says why.
  bool to_database(const uint8_t* data, size_t len, std::string_view* out, std::string* error);
  // Database bytes in, the client's protocol appended to *out. False when the database's stream is
  // broken.
  bool to_client(const uint8_t* data, size_t len, std::string* out, std::string* error);
  // A statement the client prepared through another connection (see translator_learn).
  void learn(const std::string& name, const std::string& messages) {
    client_->translator_learn(translator_, {name.data(), name.size()},
                              reinterpret_cast<const uint8_t*>(messages.data()), messages.size());
  }

 private:
  const lms_dialect_functions* client_;
  const lms_dialect_functions* database_;
  void* translator_ = nullptr;
  void* decoder_ = nullptr;
  std::string to_database_;  // the last to_database's output
};

// The client's startup parameters a database of another protocol is given: only what both
// protocols mean alike (the database).
std::vector<std::pair<std::string, std::string>> translated_startup(
    const std::vector<std::pair<std::string, std::string>>& startup);

}  // namespace lms::core
