// What a client set up on its database session that lms carries to another database: each
// setting's last SET (in the order settings were first set) and each named statement's Parse or
// PREPARE, as the client sent them, plus the first run of a statement that declared its
// parameters' types (MySQL's COM_STMT_EXECUTE sends them once). Replayed on the new source of
// truth at a cutover, on a shadow link when it opens, and handed to a translation.
//
// It also keeps what it cannot carry: the kinds of state the session holds that no replay makes
// again (temporary tables, LISTEN, session locks, cursors WITH HOLD), as the dialect names them, so
// `connections list` and a cutover's preflight can show who would lose what at the switch.
//
// Fed the dialect's inspection of each whole client message; knows nothing of sockets or of the
// protocol's bytes. One per session, on its loop.
#pragma once

#include <lms/plugin.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lms::core {

class CarriedState {
 public:
  // What the session must do besides: a prepare whose name only the database's answer will give
  // (MySQL's statement id), to be named with name_statement() once it comes.
  enum class Outcome { kNone, kAwaitsName };

  // Takes one whole client message as the dialect inspected it (`detail`), with its frame flags.
  Outcome take(const lms_message_detail& detail, const std::string& message, uint32_t frame_flags);
  // The database named the statement `message` prepared.
  void name_statement(const std::string& name, const std::string& message) { statements_[name] = message; }

  // Every message to replay, settings first (in order), then statements.
  std::vector<std::string> replay() const;
  // Named statements with their messages, a typed run appended where there was one (a
  // translation prepares each on first use).
  std::vector<std::pair<std::string, std::string>> prepared_statements() const;
  // The message that prepared `name`, or null.
  const std::string* statement(const std::string& name) const;
  size_t settings() const { return settings_.size(); }
  size_t statements() const { return statements_.size(); }
  // The kinds of state held that a cutover cannot carry, in the order first held.
  const std::vector<std::string>& held() const { return held_; }
  // A new login in the session (a change of user): nothing of the old one is carried.
  void clear() { *this = CarriedState(); }

 private:
  // A dialect names a handful of kinds; these bound what a third party's could make us keep.
  static constexpr size_t kMaxHeldKinds = 8;
  static constexpr size_t kMaxHeldKindBytes = 64;

  std::vector<std::pair<std::string, std::string>> settings_;
  std::map<std::string, std::string> statements_;
  std::map<std::string, std::string> statement_types_;
  std::vector<std::string> held_;
};

}  // namespace lms::core
