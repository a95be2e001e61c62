"""No secret in any output: the passwords of the connection strings (source, target, CRDB_URL),
the clients' passwords (right and wrong) and literals a client sends never appear in a log line,
an error, `status` or `connections list` output, the metrics, the shadow report, the mismatch
file or the console's pages and the API answers they show, whatever goes wrong along the way."""
import json
import os
import subprocess
import tempfile
import time

from lmstest import DATABASE, TargetTestCase, Orchestrator, PostgresServer, psql

SOURCE_PW = "Src-Pw-7f3a91"
TARGET_PW = "Tgt-Pw-2c8e44"
WRONG_PW = "Wrong-Pw-9d1b07"
LITERAL = "Literal-5e6f70"
MEMBER_PW = "Member-Pw-4a7c12"          # a user of its own, logging in as itself
MEMBER_TARGET_PW = "Member-Tgt-8b2e55"  # its password on the target, from the secret's TARGET_USERS
SECRETS = (SOURCE_PW, TARGET_PW, WRONG_PW, LITERAL, MEMBER_PW, MEMBER_TARGET_PW)


class NoSecretInAnyOutput(TargetTestCase):
    def test_every_output_is_free_of_secrets(self):
        for server, pw in ((self.pg, SOURCE_PW), (self.target, TARGET_PW)):
            server.admin(f"DROP ROLE IF EXISTS keeper; CREATE ROLE keeper LOGIN PASSWORD '{pw}'")
            server.admin("GRANT ALL ON SCHEMA public TO keeper", db=DATABASE)
            server.admin("DROP TABLE IF EXISTS vault; CREATE TABLE vault (v text); ALTER TABLE vault OWNER TO keeper",
                         db=DATABASE)
        source = f"postgresql://keeper:{SOURCE_PW}@127.0.0.1:{self.pg.port}/{DATABASE}"
        target = f"postgresql://keeper:{TARGET_PW}@127.0.0.1:{self.target.port}/{DATABASE}"
        mismatches = os.path.join(tempfile.mkdtemp(prefix="lms-secrets-"), "mismatches.jsonl")
        proxy = self.start_lms(source, extra=["--target", target, "--shadow-mode", "sync", "--mismatch-file",
                                              mismatches, "--log-level", "debug"])
        url = f"postgresql://keeper:{SOURCE_PW}@127.0.0.1:{proxy.port}/{DATABASE}"
        outputs = []         # everything LMS itself wrote or served
        client_outputs = []  # what clients were told, databases' own errors included
        # Work, a mismatch (the target lacks the row), a target error, a source error.
        self.target.admin("ALTER TABLE vault RENAME TO vault_elsewhere", db=DATABASE)
        for sql in (f"INSERT INTO vault VALUES ('{LITERAL}')", f"SELECT * FROM vault WHERE v = '{LITERAL}'",
                    f"SELECT '{LITERAL}'::int"):
            r = psql(url, "-Atc", sql)
            client_outputs.append(r.stderr)
        # A session whose last statement carries a password stays open while the control plane
        # lists connections.
        held = subprocess.Popen(["psql", url, "-X", "-qAt"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        held.stdin.write(f"ALTER ROLE keeper PASSWORD '{SOURCE_PW}';\n")
        held.stdin.flush()
        # A wrong password from a client, several times.
        for _ in range(3):
            r = psql(f"postgresql://keeper:{WRONG_PW}@127.0.0.1:{proxy.port}/{DATABASE}", "-Atc", "SELECT 1")
            outputs.append(r.stderr)
        # A proxy whose own password is wrong, and one whose source is down.
        wrong = self.start_lms(source.replace(SOURCE_PW, WRONG_PW))
        outputs.append(psql(wrong.url(password=WRONG_PW, user="keeper"), "-Atc", "SELECT 1").stderr)
        down = PostgresServer()
        down_url = f"postgresql://keeper:{SOURCE_PW}@127.0.0.1:{down.port}/{DATABASE}"
        down.destroy()
        gone = self.start_lms(down_url, check_ready=True)
        outputs.append(psql(gone.url(password=SOURCE_PW, user="keeper"), "-Atc", "SELECT 1").stderr)

        # Each user as itself: a listed user with its own password on the target from the secret,
        # shadowed, logging in right and wrong.
        self.pg.admin(f"DROP ROLE IF EXISTS member; CREATE ROLE member LOGIN PASSWORD '{MEMBER_PW}'")
        self.target.admin(f"DROP ROLE IF EXISTS member; CREATE ROLE member LOGIN PASSWORD '{MEMBER_TARGET_PW}'")
        verifier = self.pg.admin("SELECT rolpassword FROM pg_authid WHERE rolname = 'member'")
        secrets_dir = tempfile.mkdtemp(prefix="lms-secrets-")
        users = os.path.join(secrets_dir, "users.txt")
        with open(users, "w") as f:
            f.write(f'"member" "{verifier}"\n')
        secret = os.path.join(secrets_dir, "config.json")
        with open(secret, "w") as f:
            json.dump({"TARGET_USERS": {"member": MEMBER_TARGET_PW}}, f)
        peruser = self.start_lms(source, extra=["--target", target, "--shadow-mode", "sync", "--auth-file", users,
                                                "--log-level", "debug"], env={"LMS_READ_CONFIG_FILE": secret})
        r = psql(f"postgresql://member:{MEMBER_PW}@127.0.0.1:{peruser.port}/{DATABASE}", "-Atc",
                 "SELECT current_user")
        self.assertEqual(r.stdout.strip(), "member", r.stderr)
        client_outputs.append(r.stderr)
        r = psql(f"postgresql://member:{WRONG_PW}@127.0.0.1:{peruser.port}/{DATABASE}", "-Atc", "SELECT 1")
        outputs.append(r.stderr)
        # The target answered as member too (logged in with the secret's password): no difference.
        shadowed = json.loads(peruser.http_get("/v1/shadow/report")[1])
        self.assertEqual((shadowed["compared"], shadowed["target_errors"], shadowed["mismatches"]), (1, 0, 0))
        stored_key = verifier.split("$")[2].split(":")[0]  # what a leaked verifier would show

        # The control plane, with the history in a database whose URL carries a password.
        # (The source: the ALTER ROLE above, shadowed in sync mode, gave the target's keeper the
        # source's password too.)
        crdb = source
        orch = Orchestrator([proxy, wrong, gone, peruser], env={"CRDB_URL": crdb},
                            extra=["--metrics-sample-interval", "500ms"])
        self.addCleanup(orch.stop)
        listed = []
        for _ in range(100):  # until the held session's statement has run
            listed = json.loads(orch.cli("connections", "list", "-o", "json").stdout)
            if any("ALTER ROLE" in c["last_query"] for c in listed):
                break
            time.sleep(0.05)
        self.assertTrue(any(c["last_query"] == "ALTER ROLE keeper PASSWORD ?;" for c in listed), listed)
        for args in (("status",), ("status", "-o", "json"), ("connections", "list"),
                     ("connections", "list", "-o", "json")):
            r = orch.cli(*args)
            outputs += [r.stdout, r.stderr]
        held.communicate(timeout=30)
        for p in (proxy, wrong, gone, peruser):
            for path in ("/metrics", "/v1/status", "/v1/connections", "/v1/shadow/report"):
                outputs.append(p.http_get(path)[1])
        self.assertGreater(json.loads(proxy.http_get("/v1/shadow/report")[1])["mismatches"], 0)
        # The console's pages and every API answer they read, from the orchestrator.
        import urllib.request
        import urllib.error
        time.sleep(1.2)  # one metrics sample (the orchestrator samples every 0.5 s here)
        for path in ("/", "/app.js", "/cutover.js", "/v1/status", "/v1/connections", "/v1/shadow/report",
                     "/v1/metrics/history", "/v1/cutover/checks", "/v1/cutover/history"):
            try:
                with urllib.request.urlopen(orch.url + path, timeout=30) as r:
                    body = r.read().decode()
            except urllib.error.HTTPError as e:
                body = e.read().decode()
            outputs.append(body)
            if path == "/v1/metrics/history":
                self.assertTrue(json.loads(body)["samples"], "the orchestrator sampled no metrics")
            if path == "/v1/shadow/report":
                self.assertGreater(json.loads(body)["mismatches"], 0)
        orch.stop()
        outputs.append(orch.log())
        for p in (proxy, wrong, gone, peruser):
            p.stop()
            outputs.append(p.log())
        with open(mismatches) as f:
            outputs.append(f.read())
        everything = "\n".join(outputs)
        self.assertIn("password authentication failed", everything)  # the failures did happen
        for secret in (*SECRETS, stored_key):
            self.assertNotIn(secret, everything, f"{secret} leaked")
        # Clients hear their databases' errors, which may quote their own values, never a password.
        told = "\n".join(client_outputs)
        self.assertIn(LITERAL, told)
        for secret in (SOURCE_PW, TARGET_PW, WRONG_PW, MEMBER_PW, MEMBER_TARGET_PW):
            self.assertNotIn(secret, told)


if __name__ == "__main__":
    import unittest
    unittest.main()
