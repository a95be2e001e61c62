"""Validation and the compatibility report, against two real PostgreSQL 15 servers holding the same
rows (the target stands in for CockroachDB): a planted difference shows up in the report, the
metrics and the mismatch file; ignored columns and statements do not; every shadow mode that runs
the target compares, async included."""
import json
import os
import tempfile

from lmstest import DATABASE, USER, TargetTestCase, psql
from test_shadow import metric, pgbench


def report(proxy):
    status, body = proxy.http_get("/v1/shadow/report")
    assert status == 200, (status, body)
    return json.loads(body)


def entry(rep, fragment):
    """The report's entry whose normalized statement contains `fragment`."""
    found = [s for s in rep["statements"] if fragment in s["statement"]]
    return found[0] if found else None


def mismatch_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


class Validation(TargetTestCase):
    def setUp(self):
        for server in (self.pg, self.target):
            server.admin("DROP TABLE IF EXISTS accounts, only_on_source", db=DATABASE)
            server.admin("CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance numeric, "
                         f"updated_at timestamptz); ALTER TABLE accounts OWNER TO {USER}", db=DATABASE)
            server.admin("INSERT INTO accounts SELECT i, 'owner' || i, i * 10, now() "
                         "FROM generate_series(1, 50) i", db=DATABASE)
        self.pg.admin(f"CREATE TABLE only_on_source (v int); ALTER TABLE only_on_source OWNER TO {USER}",
                      db=DATABASE)
        self.dir = tempfile.mkdtemp(prefix="lms-validation-")
        self.mismatches = os.path.join(self.dir, "mismatches.jsonl")

    def shadow(self, mode, *extra):
        return self.start_lms(extra=["--target", self.target.url(), "--shadow-mode", mode,
                                     "--mismatch-file", self.mismatches, *extra])


    def test_identical_databases_report_no_mismatch(self):
        proxy = self.shadow("sync")
        for i in range(1, 11):
            r = psql(proxy.url(), "-Atc", f"SELECT id, owner, balance FROM accounts WHERE id <= {i} ORDER BY id")
            self.assertEqual(r.returncode, 0, r.stderr)
        rep = report(proxy)
        e = entry(rep, "FROM accounts WHERE id <= ?")
        self.assertIsNotNone(e, rep)
        # Ten executions with ten different literals group under one normalized statement.
        self.assertEqual(e["statement"], "SELECT id, owner, balance FROM accounts WHERE id <= ? ORDER BY id")
        self.assertEqual(e["executions"], 10)
        self.assertEqual((e["mismatches"], e["target_errors"]), (0, 0), e)
        self.assertGreater(e["source_latency_ms"]["p50"], 0)
        self.assertGreater(e["target_latency_ms"]["p99"], 0)
        self.assertEqual(metric(proxy, "lms_shadow_mismatches_total"), 0)
        self.assertGreaterEqual(metric(proxy, "lms_shadow_comparisons_total"), 10)
        self.assertEqual(mismatch_lines(self.mismatches), [])

    def test_a_different_row_on_the_target_is_reported_everywhere(self):
        self.target.admin("UPDATE accounts SET balance = 987654321 WHERE id = 7", db=DATABASE)
        self.target.admin("DELETE FROM accounts WHERE id = 8", db=DATABASE)
        proxy = self.shadow("sync")
        same = psql(proxy.url(), "-Atc", "SELECT owner FROM accounts WHERE id = 3")
        self.assertEqual(same.stdout.strip(), "owner3", same.stderr)
        # The client gets the source's answer, whatever the target holds.
        r = psql(proxy.url(), "-Atc", "SELECT balance FROM accounts WHERE id = 7")
        self.assertEqual(r.stdout.strip(), "70", r.stderr)
        r = psql(proxy.url(), "-Atc", "SELECT count(*) FROM accounts WHERE id BETWEEN 8 AND 9")
        self.assertEqual(r.stdout.strip(), "2", r.stderr)
        r = psql(proxy.url(), "-Atc", "UPDATE accounts SET owner = 'x' WHERE id IN (8, 9)")
        self.assertEqual(r.stdout.strip(), "UPDATE 2", r.stderr)

        rep = report(proxy)
        by_id = entry(rep, "SELECT balance FROM accounts WHERE id = ?")
        self.assertEqual((by_id["executions"], by_id["mismatches"], by_id["differences"]["checksum"]), (1, 1, 1), by_id)
        counted = entry(rep, "SELECT count(*) FROM accounts WHERE id BETWEEN ? AND ?")
        self.assertEqual(counted["differences"]["checksum"], 1, counted)
        updated = entry(rep, "UPDATE accounts SET owner = ? WHERE id IN (?, ?)")
        self.assertEqual(updated["differences"]["row_count"], 1, updated)
        self.assertIn("UPDATE 2", updated["last_mismatch"])
        self.assertIn("UPDATE 1", updated["last_mismatch"])
        self.assertEqual(entry(rep, "SELECT owner FROM accounts WHERE id = ?")["mismatches"], 0)
        self.assertEqual(rep["mismatches"], 3)

        self.assertEqual(metric(proxy, "lms_shadow_mismatches_total"), 3)
        self.assertEqual(metric(proxy, 'lms_shadow_differences_total{kind="checksum"}'), 2)
        self.assertEqual(metric(proxy, 'lms_shadow_differences_total{kind="row_count"}'), 1)

        self.assertTrue(self.eventually(lambda: len(mismatch_lines(self.mismatches)) == 3))
        lines = mismatch_lines(self.mismatches)
        balance = [l for l in lines if l["statement"] == "SELECT balance FROM accounts WHERE id = ?"][0]
        self.assertEqual(balance["differences"], ["checksum"])
        self.assertEqual(balance["source"]["rows"], 1)
        self.assertEqual(balance["target"]["rows"], 1)
        self.assertNotEqual(balance["source"]["checksum"], balance["target"]["checksum"])
        self.assertEqual(balance["source"]["columns"], ["balance numeric"])
        # Literals never reach the file: they may be secrets.
        self.assertNotIn("987654321", json.dumps(lines))
        self.assertNotIn("'x'", json.dumps(lines))

    def test_prepared_statements_are_reported_by_their_text(self):
        # A fifth of the rows differ on the target.
        self.target.admin("UPDATE accounts SET balance = -1 WHERE id % 5 = 0", db=DATABASE)
        proxy = self.shadow("sync")
        script = os.path.join(self.dir, "read.sql")
        with open(script, "w") as f:
            f.write("\\set id random(1, 50)\nSELECT balance FROM accounts WHERE id = :id;\n")
        # A fixed seed: the same draws on every run.
        r = pgbench(proxy.port, "-n", "-M", "prepared", "-c", "2", "-t", "200", "--random-seed", "20261205",
                    "-f", script)
        self.assertEqual(r.returncode, 0, r.stderr)
        e = entry(report(proxy), "SELECT balance FROM accounts WHERE id = $1")
        self.assertIsNotNone(e, report(proxy))
        # 400 executions, and each client's Parse+Sync that prepared it: the target ran those too.
        self.assertEqual(e["executions"], 402)
        # Exactly the executions that read a changed row differ: about a fifth of the 400 (80,
        # with a standard deviation of 8), never none and never all.
        self.assertGreater(e["mismatches"], 40)
        self.assertLess(e["mismatches"], 120)
        self.assertEqual(e["mismatches"], e["differences"]["checksum"])

    def test_ignored_columns_and_statements_are_not_mismatches(self):
        self.target.admin("UPDATE accounts SET updated_at = now() - interval '1 day'", db=DATABASE)
        proxy = self.shadow("sync", "--shadow-ignore-columns", "updated_at, other",
                            "--shadow-ignore-statements", r"random\(\)")
        r = psql(proxy.url(), "-Atc", "SELECT id, updated_at FROM accounts ORDER BY id")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = psql(proxy.url(), "-Atc", "SELECT random() FROM accounts")
        self.assertEqual(r.returncode, 0, r.stderr)
        rep = report(proxy)
        e = entry(rep, "SELECT id, updated_at FROM accounts")
        self.assertEqual((e["executions"], e["mismatches"]), (1, 0), e)
        rnd = entry(rep, "SELECT random() FROM accounts")
        self.assertTrue(rnd["ignored"], rnd)
        self.assertEqual((rnd["executions"], rnd["mismatches"]), (1, 0), rnd)
        self.assertEqual(metric(proxy, "lms_shadow_mismatches_total"), 0)
        # The same column, not ignored, differs.
        plain = self.shadow("sync")
        psql(plain.url(), "-Atc", "SELECT id, updated_at FROM accounts ORDER BY id")
        self.assertEqual(entry(report(plain), "SELECT id, updated_at FROM accounts")["mismatches"], 1)

    def test_target_errors_and_column_differences(self):
        self.target.admin("ALTER TABLE accounts ALTER COLUMN balance TYPE float8", db=DATABASE)
        proxy = self.shadow("sync")
        r = psql(proxy.url(), "-Atc", "SELECT * FROM only_on_source")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = psql(proxy.url(), "-Atc", "SELECT id, balance FROM accounts WHERE id = 1")
        self.assertEqual(r.stdout.strip(), "1|10", r.stderr)
        rep = report(proxy)
        missing = entry(rep, "FROM only_on_source")
        self.assertEqual((missing["target_errors"], missing["differences"]["target_error"]), (1, 1), missing)
        self.assertIn("42P01", missing["first_target_error"])
        self.assertIn("only_on_source", missing["first_target_error"])
        typed = entry(rep, "SELECT id, balance FROM accounts WHERE id = ?")
        self.assertEqual(typed["differences"]["columns"], 1, typed)
        self.assertIn("balance numeric", typed["last_mismatch"])
        self.assertIn("balance float8", typed["last_mismatch"])
        self.assertEqual(metric(proxy, "lms_shadow_target_errors_total"), 1)

    def test_async_and_strict_sync_compare_too(self):
        self.target.admin("UPDATE accounts SET owner = 'changed' WHERE id = 2", db=DATABASE)
        for mode in ("async", "strict-sync"):
            proxy = self.shadow(mode)
            r = psql(proxy.url(), "-Atc", "SELECT owner FROM accounts WHERE id = 2")
            self.assertEqual(r.stdout.strip(), "owner2", r.stderr)
            self.assertTrue(self.eventually(
                lambda: (entry(report(proxy), "SELECT owner FROM accounts") or {}).get("mismatches") == 1), mode)

    def test_the_report_is_bounded(self):
        # More statement shapes than a worker keeps: the rest are counted together, and the
        # statement texts are cut.
        proxy = self.shadow("sync", "--workers", "1")
        script = "SELECT '" + "x" * 5000 + "' AS " + "y" * 60 + ", " + ", ".join(f"{i} AS z{i}" for i in range(600)) + ";\n"
        script += "".join(f"SELECT 1 AS c{i};\n" for i in range(2010))
        r = psql(proxy.url(), "-q", input=script)
        self.assertEqual(r.returncode, 0, r.stderr[-500:])
        statements = report(proxy)["statements"]
        self.assertEqual(len(statements), 2001)
        other = entry(report(proxy), "(other statements)")
        self.assertEqual(other["executions"], 11)
        self.assertTrue(all(len(e["statement"]) <= 2051 for e in statements))
        long = [e for e in statements if e["statement"].startswith("SELECT ? AS yyy")]
        self.assertEqual(len(long), 1)
        self.assertTrue(long[0]["statement"].endswith("..."), long[0]["statement"][-40:])

    def test_validation_can_be_turned_off(self):
        self.target.admin("UPDATE accounts SET owner = 'changed' WHERE id = 2", db=DATABASE)
        proxy = self.shadow("sync", "--shadow-validate", "off")
        r = psql(proxy.url(), "-Atc", "SELECT owner FROM accounts WHERE id = 2")
        self.assertEqual(r.stdout.strip(), "owner2", r.stderr)
        self.assertEqual(report(proxy)["statements"], [])
        self.assertEqual(metric(proxy, "lms_shadow_comparisons_total"), 0)
        self.assertEqual(metric(proxy, "lms_shadow_requests_total"), 1)


if __name__ == "__main__":
    import unittest
    unittest.main()
