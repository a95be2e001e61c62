// Which tables a statement names, read from the normalized text the compatibility report keeps.
#include "statement_tables.h"

#include <gtest/gtest.h>

namespace lms::orchestrator {
namespace {

std::vector<std::string> of(std::string_view statement) { return tables_in({statement}, 64); }

using Names = std::vector<std::string>;

TEST(StatementTables, TheKeywordsThatNameTables) {
  EXPECT_EQ(of("SELECT abalance FROM pgbench_accounts WHERE aid = $1"), Names{"pgbench_accounts"});
  EXPECT_EQ(of("UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2"),
            Names{"pgbench_tellers"});
  EXPECT_EQ(of("INSERT INTO pgbench_history (tid, bid) VALUES ($1, $2)"), Names{"pgbench_history"});
  EXPECT_EQ(of("DELETE FROM shop.orders WHERE id = ?"), Names{"shop.orders"});
  EXPECT_EQ(of("TRUNCATE TABLE audit"), Names{"audit"});
  EXPECT_EQ(of("TRUNCATE audit, audit_2"), (Names{"audit", "audit_2"}));
  EXPECT_EQ(
      of("SELECT * FROM \"Order\" o JOIN line_items AS l ON l.o = o.id LEFT JOIN `stock` s USING (sku)"),
      (Names{"\"Order\"", "line_items", "`stock`"}));
}

TEST(StatementTables, AFromListByCommas) {
  EXPECT_EQ(of("SELECT * FROM a, b x, c AS y WHERE a.id = b.id"), (Names{"a", "b", "c"}));
}

TEST(StatementTables, WhatIsNotATable) {
  EXPECT_EQ(of("SELECT * FROM generate_series($1, $2)"), Names{});
  EXPECT_EQ(of("SELECT EXTRACT(YEAR FROM created) FROM events"), Names{"events"});
  EXPECT_EQ(of("SELECT a IS DISTINCT FROM b FROM t"), Names{"t"});
  EXPECT_EQ(of("SELECT * FROM (SELECT 1) AS s"), Names{});
  EXPECT_EQ(of("WITH recent AS (SELECT * FROM events) SELECT * FROM recent"), Names{"events"});
  EXPECT_EQ(of("SELECT relname FROM pg_catalog.pg_class"), Names{});
  EXPECT_EQ(of("SELECT * FROM pg_stat_activity"), Names{});
  EXPECT_EQ(of("SELECT table_name FROM information_schema.tables"), Names{});
  EXPECT_EQ(of("SELECT 'FROM x' FROM dual"), Names{});
  EXPECT_EQ(of("INSERT INTO lms_cutover_marker (token) VALUES ($1)"), Names{});
  EXPECT_EQ(of("DROP TABLE old_stuff"), Names{});
  EXPECT_EQ(of("SELECT 1"), Names{});
  EXPECT_EQ(of("SELECT * FROM jobs WHERE id = ? FOR UPDATE OF jobs SKIP LOCKED"), Names{"jobs"});
  EXPECT_EQ(of("INSERT INTO kv (k, v) VALUES (?, ?) ON DUPLICATE KEY UPDATE v = ?"), Names{"kv"});
  EXPECT_EQ(of("INSERT INTO kv VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v"), Names{"kv"});
}

TEST(StatementTables, TablesTheApplicationCreatesAreItsOwn) {
  EXPECT_EQ(tables_in({"CREATE TEMP TABLE IF NOT EXISTS scratch (a int)", "INSERT INTO scratch VALUES (?)",
                       "SELECT * FROM scratch JOIN accounts ON true"},
                      64),
            Names{"accounts"});
}

TEST(StatementTables, EachOnceAndBounded) {
  EXPECT_EQ(tables_in({"SELECT * FROM a", "UPDATE a SET x = ?", "SELECT * FROM b", "SELECT * FROM c"}, 2),
            (Names{"a", "b"}));
}

}  // namespace
}  // namespace lms::orchestrator
