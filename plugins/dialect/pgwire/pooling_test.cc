#include "pooling.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pool_sql.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes parse(std::string_view name, std::string_view sql) {
  return MessageBuilder().begin('P').cstr(name).cstr(sql).u8(0).u8(0).end().take();
}
Bytes bind(std::string_view statement) {
  return MessageBuilder()
      .begin('B')
      .cstr("")
      .cstr(statement)
      .u8(0)
      .u8(0)
      .u8(0)
      .u8(0)
      .u8(0)
      .u8(0)
      .end()
      .take();
}
Bytes execute() { return MessageBuilder().begin('E').cstr("").u32(0).end().take(); }
Bytes sync() { return MessageBuilder().begin('S').end().take(); }
Bytes query(std::string_view sql) { return MessageBuilder().begin('Q').cstr(sql).end().take(); }
Bytes close_statement(std::string_view name) {
  return MessageBuilder().begin('C').u8('S').cstr(name).end().take();
}
Bytes answer(char type) { return MessageBuilder().begin(type).end().take(); }
Bytes ready(char state) { return MessageBuilder().begin('Z').u8(static_cast<uint8_t>(state)).end().take(); }

// The type bytes of the messages in `bytes`, in order ("CP": a Close, then a Parse).
std::string types(const Bytes& bytes) {
  std::string out;
  for (size_t at = 0; at + 5 <= bytes.size(); at += 1 + read_u32(bytes.data() + at + 1))
    out += static_cast<char>(bytes[at]);
  return out;
}

std::string text_of(const Bytes& bytes) { return {bytes.begin(), bytes.end()}; }

struct Pool {
  PoolServer server{200};

  // What goes to the database for `message` (injected messages, then the message unless replaced).
  std::string send(PoolClient& client, const Bytes& message, Bytes* sent = nullptr) {
    Bytes out;
    if (server.client_message(client, Flavor::kPostgres, message.data(), message.size(), true, out) ==
        LMS_POOL_PASS) {
      out.insert(out.end(), message.begin(), message.end());
    }
    if (sent != nullptr) *sent = out;
    return types(out);
  }
  // What the client gets of the database's answers, each given by its type ('Z' ready idle).
  std::string answer_with(std::string_view answers, char state = 'I') {
    std::string passed;
    for (const char type : answers) {
      const Bytes message = type == 'Z' ? ready(state) : answer(type);
      if (server.server_message(message.data(), message.size()) == LMS_POOL_PASS) passed += type;
    }
    return passed;
  }
};

PoolClient client_with(std::vector<std::pair<std::string, std::string>> params = {}) {
  std::vector<lms_kv> kvs;
  for (const auto& [k, v] : params) kvs.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  return PoolClient(kvs.data(), kvs.size());
}

TEST(Pooling, AStatementIsMadeOnTheConnectionOfItsFirstRunAndItsAnswerDropped) {
  Pool pool;
  PoolClient a = client_with();
  EXPECT_EQ(pool.send(a, parse("s1", "SELECT 1")), "P");
  EXPECT_EQ(pool.send(a, sync()), "S");
  EXPECT_EQ(pool.answer_with("1Z"), "1Z");
  EXPECT_EQ(pool.server.statements(), 1u);

  Pool other;  // another connection lent to the same client
  EXPECT_EQ(other.send(a, bind("s1")), "PB");
  EXPECT_EQ(other.send(a, execute()), "E");
  EXPECT_EQ(other.send(a, sync()), "S");
  EXPECT_EQ(other.answer_with("12CZ"), "2CZ");
  EXPECT_EQ(other.server.owed(), 0u);
  // Made there now: the next run goes as it is.
  EXPECT_EQ(other.send(a, bind("s1")), "B");
  // Counted as made again there once (the client's own Parse on the first is not), then zero.
  EXPECT_EQ(other.server.take_statement_work().made, 1u);
  EXPECT_EQ(other.server.take_statement_work().made, 0u);
  EXPECT_EQ(pool.server.take_statement_work().made, 0u);
}

// A client that pipelines without pause: the answers owed never run out while they are taken,
// and each still finds what it answers (a statement made again is dropped, the client's passes).
TEST(Pooling, AnswersOwedStayInOrderWhileAClientPipelines) {
  Pool pool;
  PoolClient a = client_with();
  EXPECT_EQ(pool.send(a, parse("s1", "SELECT 1")), "P");
  EXPECT_EQ(pool.send(a, sync()), "S");
  EXPECT_EQ(pool.answer_with("1Z"), "1Z");
  Pool other;  // s1 is made here at its first run, its ParseComplete dropped
  for (int round = 0; round < 50; ++round) {
    EXPECT_EQ(other.send(a, bind("s1")), round == 0 ? "PB" : "B") << round;
    EXPECT_EQ(other.send(a, execute()), "E");
    EXPECT_EQ(other.send(a, sync()), "S");
    // The previous round's answer, with this round's still owed.
    if (round > 0) {
      EXPECT_EQ(other.answer_with(round == 1 ? "12CZ" : "2CZ"), "2CZ") << round;
    }
    EXPECT_EQ(other.server.owed(), round == 0 ? 4u : 3u) << round;
  }
  EXPECT_EQ(other.answer_with("2CZ"), "2CZ");
  EXPECT_EQ(other.server.owed(), 0u);
}

// A driver's round of unnamed statements, each parsed afresh at every run: what was judged the
// first time holds the next (a statement that changes the session still does; one refused is
// refused again), and a connection that last parsed another's text gets this client's.
TEST(Pooling, UnnamedStatementsParsedAgainAreJudgedAsBefore) {
  Pool pool;
  PoolClient a = client_with();
  for (int round = 0; round < 3; ++round) {
    for (const char* sql : {"SELECT 1", "SET lms_test.round = '1'", "SELECT 2"}) {
      EXPECT_EQ(pool.send(a, parse("", sql)), "P") << round << sql;
      pool.send(a, bind(""));
      pool.send(a, execute());
      pool.send(a, sync());
      EXPECT_EQ(pool.answer_with("12CZ"), "12CZ") << round << sql;
    }
    EXPECT_EQ(a.settings_sql(), "SET lms_test.round = '1'") << round;
    a.reset_all();
    Bytes sent;
    EXPECT_EQ(pool.send(a, parse("", "LISTEN news"), &sent), "PBE") << round;
    EXPECT_NE(text_of(sent).find("ERRCODE = '0A000'"), std::string::npos) << round;
    EXPECT_EQ(pool.send(a, sync()), "S");
    EXPECT_EQ(pool.answer_with("12EZ"), "EZ") << round;
    EXPECT_EQ(pool.server.owed(), 0u) << round;
  }
  // More statements in turn than the client remembers judging: each is judged again when its
  // turn comes, the SET among them still the client's.
  a.reset_all();
  for (int round = 0; round < 2; ++round) {
    for (int n = 0; n < 12; ++n) {
      const std::string sql = n == 5 ? "SET lms_test.turn = '5'" : "SELECT " + std::to_string(n);
      EXPECT_EQ(pool.send(a, parse("", sql)), "P") << round << sql;
      pool.send(a, bind(""));
      pool.send(a, execute());
      pool.send(a, sync());
      EXPECT_EQ(pool.answer_with("12CZ"), "12CZ") << round << sql;
    }
    EXPECT_EQ(a.settings_sql(), "SET lms_test.turn = '5'") << round;
    a.reset_all();
  }
  // Another connection, and another client's unnamed statement there: this client's is parsed
  // before its Bind.
  Pool other;
  PoolClient b = client_with();
  other.send(b, parse("", "SELECT 1"));
  other.send(b, sync());
  other.answer_with("1Z");
  EXPECT_EQ(other.send(a, bind("")), "PB");
}

TEST(Pooling, AnotherClientsStatementOfTheSameNameIsClosedFirst) {
  Pool pool;
  PoolClient a = client_with();
  PoolClient b = client_with();
  pool.send(a, parse("s1", "SELECT 1"));
  pool.send(a, sync());
  pool.answer_with("1Z");
  EXPECT_EQ(pool.send(b, parse("s1", "SELECT 2")), "CP");
  pool.send(b, sync());
  EXPECT_EQ(pool.answer_with("31Z"), "1Z");
  // a's s1 is not the one there now: made again before its run.
  EXPECT_EQ(pool.send(a, bind("s1")), "CPB");
  pool.send(a, sync());
  EXPECT_EQ(pool.answer_with("312Z"), "2Z");
}

TEST(Pooling, TheLeastRecentlyUsedStatementIsClosedAtTheBound) {
  Pool pool{PoolServer(2)};
  PoolClient a = client_with();
  pool.send(a, parse("s1", "SELECT 1"));
  pool.send(a, parse("s2", "SELECT 2"));
  pool.send(a, bind("s1"));  // s1 used: s2 is now the least recent
  Bytes sent;
  EXPECT_EQ(pool.send(a, parse("s3", "SELECT 3"), &sent), "CP");
  EXPECT_NE(text_of(sent).find(std::string("s2\0", 3)), std::string::npos);
  pool.send(a, sync());
  EXPECT_EQ(pool.answer_with("11231Z"), "1121Z");
  EXPECT_EQ(pool.server.statements(), 2u);
  const PoolServer::StatementWork work = pool.server.take_statement_work();
  EXPECT_EQ(work.evicted, 1u);
  EXPECT_EQ(work.made, 0u);
}

TEST(Pooling, AnErrorSkipsTheRestOfTheRequestAndForgetsWhatItDidNotMake) {
  Pool pool;
  PoolClient a = client_with();
  pool.send(a, parse("bad", "SELEC 1"));
  pool.send(a, bind("bad"));
  pool.send(a, execute());
  pool.send(a, sync());
  EXPECT_EQ(pool.answer_with("EZ"), "EZ");
  EXPECT_EQ(pool.server.owed(), 0u);
  EXPECT_EQ(pool.server.statements(), 0u);
}

TEST(Pooling, AStatementMadeAgainThatFailsReportsItsErrorOnce) {
  Pool first;
  PoolClient a = client_with();
  first.send(a, parse("s1", "SELECT * FROM gone"));
  first.send(a, sync());
  first.answer_with("1Z");
  Pool second;
  EXPECT_EQ(second.send(a, bind("s1")), "PB");
  second.send(a, execute());
  second.send(a, sync());
  // The Parse made again fails (the table went): the client hears that, and nothing else.
  EXPECT_EQ(second.answer_with("EZ"), "EZ");
  EXPECT_EQ(second.server.statements(), 0u);
}

TEST(Pooling, SettingsAreMadeWhenTheConnectionCarriesAnothersAndTheirAnswersDropped) {
  Pool pool;
  PoolClient a = client_with({{"user", "u"}, {"database", "d"}, {"application_name", "app-a"}});
  PoolClient b = client_with({{"options", "-c work_mem=5MB --search_path=x"}});
  EXPECT_EQ(a.settings_sql(), "SET \"application_name\" TO 'app-a'");
  EXPECT_EQ(b.settings_sql(), "SET \"work_mem\" TO '5MB'; SET \"search_path\" TO 'x'");
  Bytes out;
  pool.server.lend(a, out);
  EXPECT_EQ(types(out), "Q");
  EXPECT_NE(text_of(out).find("RESET ALL; SET \"application_name\" TO 'app-a'"), std::string::npos);
  EXPECT_EQ(pool.answer_with("SCCZ"), "");
  out.clear();
  pool.server.lend(a, out);
  EXPECT_TRUE(out.empty());  // the same client again: nothing to make
  pool.send(a, query("SET work_mem = '7MB'"));
  pool.answer_with("CZ");
  EXPECT_EQ(a.settings_sql(), "SET \"application_name\" TO 'app-a'; SET work_mem = '7MB'");
  out.clear();
  pool.server.lend(a, out);
  EXPECT_TRUE(out.empty());  // set outside a transaction: the connection has it
  pool.server.lend(b, out);
  EXPECT_EQ(types(out), "Q");
  // A SET inside a transaction may be rolled back: the next lend makes the settings again.
  pool.send(b, query("BEGIN"));
  pool.answer_with("CZ", 'T');
  pool.send(b, query("SET work_mem = '9MB'"));
  pool.answer_with("CZ", 'T');
  out.clear();
  pool.server.lend(b, out);
  EXPECT_EQ(types(out), "Q");
}

TEST(Pooling, SettingsAndStatementsChangedInExtendedRequestsAreTheClientsToo) {
  // JDBC runs even SET through Parse, Bind and Execute: the effect is the client's as it runs.
  Pool pool;
  PoolClient a = client_with();
  pool.send(a, parse("", "SET lms_test.client = '7'"));
  pool.send(a, bind(""));
  EXPECT_EQ(a.settings_sql(), "");  // bound, not yet run
  pool.send(a, execute());
  pool.send(a, sync());
  EXPECT_EQ(pool.answer_with("12CZ"), "12CZ");
  EXPECT_EQ(a.settings_sql(), "SET lms_test.client = '7'");
  // Set in an extended request (an implicit transaction that may yet fail): made again at the
  // next lend, even for the same client.
  Bytes out;
  pool.server.lend(a, out);
  EXPECT_EQ(types(out), "Q");
  EXPECT_NE(text_of(out).find("SET lms_test.client = '7'"), std::string::npos);
  pool.answer_with("SCCZ");
  // A statement bound but never run changes nothing; an unrelated portal forgets the effect.
  pool.send(a, parse("", "RESET ALL"));
  pool.send(a, bind(""));
  pool.send(a, parse("", "SELECT 1"));
  pool.send(a, bind(""));
  pool.send(a, execute());
  pool.send(a, sync());
  pool.answer_with("1212DCZ");
  EXPECT_EQ(a.settings_sql(), "SET lms_test.client = '7'");
  // A named statement with an effect, run later: DEALLOCATE drops the client's statement.
  pool.send(a, parse("keep", "SELECT 2"));
  pool.send(a, parse("drop_it", "DEALLOCATE keep"));
  pool.send(a, sync());
  pool.answer_with("11Z");
  ASSERT_NE(a.statement("keep"), nullptr);
  pool.send(a, bind("drop_it"));
  pool.send(a, execute());
  pool.send(a, sync());
  pool.answer_with("2CZ");
  EXPECT_EQ(a.statement("keep"), nullptr);
}

TEST(Pooling, ASetThatFailsOrIsRolledBackIsNotTheClients) {
  Pool pool;
  PoolClient a = client_with();
  // A Query the database runs: its CommandComplete (`tag`) and ReadyForQuery (`state`).
  auto run = [&](std::string_view sql, std::string_view tag, char state) {
    pool.send(a, query(sql));
    const Bytes complete = MessageBuilder().begin('C').cstr(tag).end().take();
    pool.server.server_message(complete.data(), complete.size());
    pool.answer_with("Z", state);
  };
  // One it refuses.
  auto fail = [&](std::string_view sql, char state) {
    pool.send(a, query(sql));
    pool.answer_with("EZ", state);
  };
  run("SET work_mem = '4MB'", "SET", 'I');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '4MB'");
  // Refused by the database: the client's settings are as they were, and never replayed.
  fail("SET work_mem = 'lots'", 'I');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '4MB'");
  // In a transaction that rolls back.
  run("BEGIN", "BEGIN", 'T');
  run("SET work_mem = '5MB'", "SET", 'T');
  run("SET search_path = x", "SET", 'T');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '5MB'; SET search_path = x");
  run("ROLLBACK", "ROLLBACK", 'I');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '4MB'");
  Bytes out;
  pool.server.lend(a, out);
  EXPECT_EQ(types(out), "Q");  // the connection's settings are made again
  pool.answer_with("SCCZ");
  // A failed transaction's COMMIT is a rollback.
  run("BEGIN", "BEGIN", 'T');
  run("SET work_mem = '6MB'", "SET", 'T');
  fail("SELECT 1/0", 'E');
  run("COMMIT", "ROLLBACK", 'I');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '4MB'");
  // Committed, a SET stands; after a ROLLBACK TO SAVEPOINT, so do those before the savepoint.
  run("BEGIN", "BEGIN", 'T');
  run("SET work_mem = '7MB'", "SET", 'T');
  run("SAVEPOINT s", "SAVEPOINT", 'T');
  fail("SELECT 1/0", 'E');
  run("ROLLBACK TO SAVEPOINT s", "ROLLBACK", 'T');
  run("COMMIT", "COMMIT", 'I');
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '7MB'");
}

TEST(Pooling, WhatNoSharedConnectionKeepsIsRefusedByTheDatabaseInOrder) {
  Pool pool;
  PoolClient a = client_with();
  const char* refused[] = {"LISTEN news", "SELECT pg_advisory_lock(1)", "CREATE TEMP TABLE t (x int)",
                           "BEGIN; DECLARE c CURSOR WITH HOLD FOR SELECT 1; COMMIT", "select 1; listen x"};
  for (const char* sql : refused) {
    Bytes sent;
    EXPECT_EQ(pool.send(a, query(sql), &sent), "Q") << sql;
    EXPECT_NE(text_of(sent).find("ERRCODE = '0A000'"), std::string::npos) << sql;
    EXPECT_NE(text_of(sent).find("is not available with pool-mode transaction"), std::string::npos) << sql;
    EXPECT_EQ(pool.answer_with("EZ"), "EZ");
  }
  const char* allowed[] = {"SELECT 'LISTEN; x'", "CREATE TEMP TABLE t (x int) ON COMMIT DROP",
                           "SELECT pg_advisory_xact_lock(1)", "SELECT $$;LISTEN x$$",
                           "SELECT 1 -- ; LISTEN x"};
  for (const char* sql : allowed) {
    Bytes sent;
    pool.send(a, query(sql), &sent);
    EXPECT_EQ(text_of(sent).find("0A000"), std::string::npos) << sql;
    pool.answer_with("CZ");
  }
  // In an extended request: the error answers the Parse, the rest is skipped up to the Sync.
  EXPECT_EQ(pool.send(a, parse("", "SELECT pg_advisory_lock($1)")), "PBE");
  pool.send(a, bind(""));
  pool.send(a, execute());
  pool.send(a, sync());
  EXPECT_EQ(pool.answer_with("12EZ"), "EZ");
  EXPECT_EQ(pool.server.owed(), 0u);
}

TEST(Pooling, SqlPrepareExecuteAndDeallocateFollowTheirClient) {
  Pool first;
  PoolClient a = client_with();
  first.send(a, query("PREPARE twice (int) AS SELECT $1 * 2"));
  first.answer_with("CZ");
  Pool second;
  Bytes sent;
  EXPECT_EQ(second.send(a, query("EXECUTE twice(21)"), &sent), "QQ");
  EXPECT_EQ(second.answer_with("CZTDCZ"), "TDCZ");
  EXPECT_EQ(second.send(a, query("DEALLOCATE twice")), "Q");  // there now
  second.answer_with("CZ");
  EXPECT_EQ(a.statement("twice"), nullptr);
}

TEST(Pooling, DiscardAllInsideATransactionDropsNothingItWouldNot) {
  Pool pool;
  PoolClient a = client_with();
  pool.send(a, parse("s1", "SELECT 1"));
  pool.send(a, sync());
  pool.answer_with("1Z");
  pool.send(a, query("BEGIN"));
  pool.answer_with("CZ", 'T');
  pool.send(a, query("DISCARD ALL"));  // the database refuses it in a transaction block
  pool.answer_with("EZ", 'E');
  EXPECT_EQ(pool.server.statements(), 1u);
  EXPECT_NE(a.statement("s1"), nullptr);
  pool.send(a, query("ROLLBACK"));
  pool.answer_with("CZ");
  pool.send(a, query("DISCARD ALL"));
  pool.answer_with("CZ");
  EXPECT_EQ(pool.server.statements(), 0u);
  EXPECT_EQ(a.statement("s1"), nullptr);
}

TEST(Pooling, LonePreparesAreAnsweredWithoutAConnection) {
  PoolClient a = client_with();
  Bytes both = parse("s1", "SELECT 1");
  const Bytes s = sync();
  both.insert(both.end(), s.begin(), s.end());
  Bytes out;
  ASSERT_TRUE(a.answer_alone(both.data(), both.size(), out));
  EXPECT_EQ(types(out), "1Z");
  EXPECT_NE(a.statement("s1"), nullptr);
  Bytes with_bind = parse("s2", "SELECT 2");
  const Bytes b = bind("s2");
  with_bind.insert(with_bind.end(), b.begin(), b.end());
  with_bind.insert(with_bind.end(), s.begin(), s.end());
  out.clear();
  EXPECT_FALSE(a.answer_alone(with_bind.data(), with_bind.size(), out));
  EXPECT_EQ(a.statement("s2"), nullptr);
  const Bytes listen = parse("s3", "LISTEN x");
  EXPECT_FALSE(a.answer_alone(listen.data(), listen.size(), out));
  // Closes are answered too (JDBC sends them as it closes statements): the client forgets.
  Bytes closes = close_statement("s1");
  const Bytes unknown = close_statement("never");
  closes.insert(closes.end(), unknown.begin(), unknown.end());
  closes.insert(closes.end(), s.begin(), s.end());
  out.clear();
  ASSERT_TRUE(a.answer_alone(closes.data(), closes.size(), out));
  EXPECT_EQ(types(out), "33Z");
  EXPECT_EQ(a.statement("s1"), nullptr);
  // A session-changing statement prepared alone still changes the session when it runs later.
  Bytes set = parse("set_it", "SET work_mem = '8MB'");
  set.insert(set.end(), s.begin(), s.end());
  out.clear();
  ASSERT_TRUE(a.answer_alone(set.data(), set.size(), out));
  Pool pool;
  EXPECT_EQ(pool.send(a, bind("set_it")), "PB");
  pool.send(a, execute());
  pool.send(a, sync());
  pool.answer_with("12CZ");
  EXPECT_EQ(a.settings_sql(), "SET work_mem = '8MB'");
}

TEST(Pooling, TheWelcomeReportsWhatTheClientAskedFor) {
  PoolClient a = client_with({{"application_name", "mine"}});
  const Bytes welcome = MessageBuilder()
                            .begin('S')
                            .cstr("application_name")
                            .cstr("first")
                            .end()
                            .begin('S')
                            .cstr("TimeZone")
                            .cstr("UTC")
                            .end()
                            .take();
  const std::string seen = a.welcome(text_of(welcome));
  EXPECT_NE(seen.find(std::string("application_name\0mine\0", 22)), std::string::npos);
  EXPECT_NE(seen.find(std::string("TimeZone\0UTC\0", 13)), std::string::npos);
  EXPECT_EQ(seen.find("first"), std::string::npos);
}

TEST(Pooling, AGoodbyeNeverReachesASharedConnection) {
  Pool pool;
  PoolClient a = client_with();
  EXPECT_EQ(pool.send(a, MessageBuilder().begin('X').end().take()), "");
  EXPECT_EQ(pool.send(a, close_statement("s1")), "C");
}

// What the client is told when lms answers a transaction's edge itself, by message type
// ("CZ"), and the state its ReadyForQuery reports.
std::string edge(PoolClient& client, const Bytes& request, char* state = nullptr) {
  Bytes out;
  if (!client.answer_transaction_edge(request.data(), request.size(), false, out)) return "-";
  if (state != nullptr) *state = static_cast<char>(out.back());
  return types(out);
}

Bytes joined(std::initializer_list<Bytes> messages) {
  Bytes out;
  for (const Bytes& m : messages) out.insert(out.end(), m.begin(), m.end());
  return out;
}

TEST(DeferredBegin, OnlyABeginThatCannotFailIsKeptBack) {
  std::string_view tag;
  for (const char* sql :
       {"BEGIN", "begin;", " Begin Work ; ", "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE",
        "BEGIN ISOLATION LEVEL READ COMMITTED, READ ONLY", "begin read write not deferrable",
        "BEGIN ISOLATION LEVEL REPEATABLE READ DEFERRABLE"}) {
    EXPECT_EQ(transaction_edge(sql, false, &tag), TransactionEdge::kBegin) << sql;
    EXPECT_EQ(tag, "BEGIN");
  }
  EXPECT_EQ(transaction_edge("START TRANSACTION READ ONLY", false, &tag), TransactionEdge::kBegin);
  EXPECT_EQ(tag, "START TRANSACTION");
  for (const char* sql : {"BEGIN; SELECT 1", "BEGIN ISOLATION LEVEL", "BEGIN , READ ONLY", "BEGIN READ ONLY,",
                          "BEGIN ISOLATION LEVEL SNAPSHOT", "BEGIN -- a comment", "BEGIN PRIORITY HIGH",
                          "BEGINNING", "START", "SELECT 1", "", "begin work work"}) {
    EXPECT_EQ(transaction_edge(sql, false, &tag), TransactionEdge::kNone) << sql;
  }
  EXPECT_EQ(transaction_edge("END", false, &tag), TransactionEdge::kCommit);
  EXPECT_EQ(tag, "COMMIT");
  EXPECT_EQ(transaction_edge("abort work;", false, &tag), TransactionEdge::kRollback);
  EXPECT_EQ(tag, "ROLLBACK");
  EXPECT_EQ(transaction_edge("COMMIT AND CHAIN", false, &tag), TransactionEdge::kNone);
  // CockroachDB: BEGIN, COMMIT and ROLLBACK as they are.
  EXPECT_EQ(transaction_edge("BEGIN TRANSACTION", true, &tag), TransactionEdge::kBegin);
  EXPECT_EQ(transaction_edge("BEGIN READ ONLY", true, &tag), TransactionEdge::kNone);
  EXPECT_EQ(transaction_edge("START TRANSACTION", true, &tag), TransactionEdge::kNone);
  EXPECT_EQ(transaction_edge("END", true, &tag), TransactionEdge::kNone);
}

TEST(DeferredBegin, TheTransactionBeginsOnTheConnectionOfItsFirstStatement) {
  PoolClient a = client_with();
  char state = 0;
  EXPECT_EQ(edge(a, query("BEGIN READ ONLY"), &state), "CZ");
  EXPECT_EQ(state, 'T');
  EXPECT_EQ(a.deferred_begin(), "BEGIN READ ONLY");
  EXPECT_EQ(edge(a, query("BEGIN")), "-");  // inside it: the database's warning
  // A lone prepare answered meanwhile reports the transaction open.
  Bytes out;
  const Bytes prepare = joined({parse("s1", "SELECT 1"), sync()});
  ASSERT_TRUE(a.answer_alone(prepare.data(), prepare.size(), out));
  EXPECT_EQ(out.back(), 'T');
  Pool pool;
  Bytes begun;
  pool.server.lend(a, begun);
  EXPECT_EQ(types(begun), "Q");
  EXPECT_NE(text_of(begun).find("BEGIN READ ONLY"), std::string::npos);
  EXPECT_EQ(a.deferred_begin(), "");
  EXPECT_EQ(pool.send(a, query("SELECT 1")), "Q");
  // The BEGIN's answer was the client's already; the statement's is its own.
  EXPECT_EQ(pool.answer_with("CZ", 'T'), "");
  EXPECT_EQ(pool.answer_with("TDCZ", 'T'), "TDCZ");
  EXPECT_EQ(pool.server.owed(), 0u);
}

TEST(DeferredBegin, ATransactionThatRanNothingEndsWithoutAConnection) {
  PoolClient a = client_with();
  char state = 0;
  EXPECT_EQ(edge(a, query("COMMIT")), "-");  // outside a transaction: the database's warning
  EXPECT_EQ(edge(a, query("BEGIN")), "CZ");
  EXPECT_EQ(edge(a, query("ROLLBACK"), &state), "CZ");
  EXPECT_EQ(state, 'I');
  EXPECT_EQ(a.deferred_begin(), "");
  Pool pool;
  Bytes nothing;
  pool.server.lend(a, nothing);
  EXPECT_TRUE(nothing.empty());
}

TEST(DeferredBegin, ExtendedRequestsOfUnnamedAndNamedStatementsAreAnswered) {
  PoolClient a = client_with();
  const Bytes describe = MessageBuilder().begin('D').u8('P').cstr("").end().take();
  // pgbench -M extended: Parse, Bind, Describe, Execute, Sync of the unnamed statement.
  EXPECT_EQ(edge(a, joined({parse("", "BEGIN;"), bind(""), describe, execute(), sync()})), "12nCZ");
  EXPECT_NE(a.unnamed(), nullptr);
  EXPECT_EQ(edge(a, joined({parse("", "END;"), bind(""), execute(), sync()})), "12CZ");
  // -M prepared: the named statement, prepared before, then run.
  Pool pool;
  pool.send(a, parse("P_0", "BEGIN;"));
  EXPECT_EQ(edge(a, joined({bind("P_0"), describe, execute(), sync()})), "2nCZ");
  EXPECT_EQ(a.deferred_begin(), "BEGIN;");
  // Not a whole request, a statement the client never made, one that takes parameters: the
  // database's to answer.
  PoolClient b = client_with();
  EXPECT_EQ(edge(b, joined({parse("", "BEGIN"), bind(""), execute()})), "-");
  EXPECT_EQ(edge(b, joined({bind("missing"), execute(), sync()})), "-");
  const Bytes with_parameter = MessageBuilder()
                                   .begin('B')
                                   .cstr("")
                                   .cstr("")
                                   .u8(0)
                                   .u8(0)
                                   .u8(0)
                                   .u8(1)
                                   .u32(1)
                                   .u8('1')
                                   .u8(0)
                                   .u8(0)
                                   .end()
                                   .take();
  EXPECT_EQ(edge(b, joined({parse("", "BEGIN"), with_parameter, execute(), sync()})), "-");
  EXPECT_EQ(b.deferred_begin(), "");
}

// pool-cache-unnamed (pool_unnamed_cache.cc).
Pool caching_pool() {
  Pool pool;
  pool.server.set_options(LMS_POOL_CACHE_UNNAMED);
  return pool;
}
Bytes describe_statement(std::string_view name) {
  return MessageBuilder().begin('D').u8('S').cstr(name).end().take();
}
constexpr std::string_view kEmptyParse("P\0\0\0\x08\0\0\0\0", 9);

TEST(UnnamedCache, AStatementParsedForEveryRunIsMadeOncePerConnectionUnderOneName) {
  Pool pool = caching_pool();
  PoolClient a = client_with();
  Bytes sent;
  EXPECT_EQ(pool.send(a, parse("", "SELECT $1"), &sent), "P");
  const std::string made = text_of(sent);
  const size_t at = made.find("lms_");
  ASSERT_NE(at, std::string::npos) << "the Parse is not renamed";
  const std::string name = made.substr(at, 15);
  EXPECT_NE(made.find("SELECT $1"), std::string::npos);
  EXPECT_EQ(pool.send(a, bind(""), &sent), "B");
  EXPECT_NE(text_of(sent).find(name), std::string::npos) << "the Bind is not pointed at " << name;
  EXPECT_EQ(pool.send(a, execute()), "E");
  EXPECT_EQ(pool.send(a, sync()), "S");
  EXPECT_EQ(pool.answer_with("12CZ"), "12CZ");  // every answer is the client's
  EXPECT_EQ(pool.server.statements(), 1u);
  // Parsed again, by this client or another: the empty query's Parse answers it.
  PoolClient b = client_with();
  for (PoolClient* client : {&a, &b}) {
    EXPECT_EQ(pool.send(*client, parse("", "SELECT $1"), &sent), "P");
    EXPECT_EQ(text_of(sent), kEmptyParse);
    EXPECT_EQ(pool.send(*client, bind(""), &sent), "B");
    EXPECT_NE(text_of(sent).find(name), std::string::npos);
    EXPECT_EQ(pool.send(*client, describe_statement(""), &sent), "D");
    EXPECT_NE(text_of(sent).find(name), std::string::npos);
    EXPECT_EQ(pool.send(*client, execute()), "E");
    EXPECT_EQ(pool.send(*client, sync()), "S");
    EXPECT_EQ(pool.answer_with("12tTCZ"), "12tTCZ");
  }
  EXPECT_EQ(pool.server.statements(), 1u);
  EXPECT_EQ(pool.server.take_statement_work().made, 0u);
  // Another text, another name.
  EXPECT_EQ(pool.send(a, parse("", "SELECT 2"), &sent), "P");
  EXPECT_EQ(text_of(sent).find(name), std::string::npos);
  EXPECT_EQ(pool.server.statements(), 2u);
}

TEST(UnnamedCache, AClientsUnnamedStatementIsMadeOnTheNextConnectionItRunsOn) {
  Pool first = caching_pool();
  PoolClient a = client_with();
  first.send(a, parse("", "SELECT $1"));
  first.send(a, sync());
  EXPECT_EQ(first.answer_with("1Z"), "1Z");
  Pool second = caching_pool();
  Bytes sent;
  EXPECT_EQ(second.send(a, bind(""), &sent), "PB");
  EXPECT_NE(text_of(sent).find("SELECT $1"), std::string::npos);
  EXPECT_EQ(second.send(a, execute()), "E");
  EXPECT_EQ(second.send(a, sync()), "S");
  EXPECT_EQ(second.answer_with("12CZ"), "2CZ");  // the Parse lms sent is answered to lms
  EXPECT_EQ(second.server.take_statement_work().made, 1u);
  EXPECT_EQ(second.send(a, describe_statement("")), "D");  // there now
}

TEST(UnnamedCache, AStatementWhoseBindFailsIsClosedAndMadeAgain) {
  Pool pool = caching_pool();
  PoolClient a = client_with();
  for (const char* answers : {"12CZ", "1EZ"}) {
    pool.send(a, parse("", "SELECT * FROM t"));
    pool.send(a, bind(""));
    pool.send(a, execute());
    pool.send(a, sync());
    // The second Bind fails as after a change of t's columns ("cached plan must not change
    // result type"); the client gets the error.
    EXPECT_EQ(pool.answer_with(answers), answers);
  }
  EXPECT_EQ(pool.server.statements(), 0u);
  // Closed (its answer lms's) before it is made again by the client's Parse.
  EXPECT_EQ(pool.send(a, parse("", "SELECT * FROM t")), "CP");
  EXPECT_EQ(pool.send(a, bind("")), "B");
  EXPECT_EQ(pool.send(a, sync()), "S");
  EXPECT_EQ(pool.answer_with("312Z"), "12Z");
  EXPECT_EQ(pool.server.statements(), 1u);
}

TEST(UnnamedCache, SettingsAndAPoolWithoutTheOptionKeepTheUnnamedStatement) {
  PoolClient a = client_with();
  Pool caching = caching_pool();
  const Bytes set = parse("", "SET search_path TO app");
  Bytes sent;
  // A SET's Parse is the client's settings' to follow at each run: parsed as it is.
  EXPECT_EQ(caching.send(a, set, &sent), "P");
  EXPECT_EQ(sent, set);
  EXPECT_EQ(caching.send(a, bind(""), &sent), "B");
  EXPECT_EQ(text_of(sent).find("lms_"), std::string::npos);
  Pool plain;
  const Bytes select = parse("", "SELECT 1");
  EXPECT_EQ(plain.send(a, select, &sent), "P");
  EXPECT_EQ(sent, select);
  EXPECT_EQ(plain.server.statements(), 0u);
}

}  // namespace
}  // namespace lms::pgwire
