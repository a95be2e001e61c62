"""Consistent cutover end to end: two PostgreSQL 15 servers with logical replication (the target
stands in for CockroachDB), three lms proxies, lms-orchestrator and lms-cli, all separate processes,
under a pgbench -M prepared load."""
import json
import os
import shutil
import signal
import subprocess
import time
import unittest

import cutover_setup as cs
from lmstest import DATABASE, PASSWORD, USER, Orchestrator, psql


class CutoverHarness(unittest.TestCase):
    """Servers shared by the class; proxies and an orchestrator fresh for each test."""

    @classmethod
    def setUpClass(cls):
        cls.source = cs.logical_server()
        cls.target = cs.logical_server()
        cs.prepare_pgbench(cls.source, cls.target)
        cs.replicate(cls.source, cls.target, "lms_forward")

    @classmethod
    def tearDownClass(cls):
        cls.target.destroy()
        cls.source.destroy()

    def start_system(self, orchestrator_extra=(), proxy_extra=()):
        self.proxies = cs.proxies_for(self.source, self.target, extra=proxy_extra)
        for p in self.proxies:
            self.addCleanup(self._stop_proxy, p)
        self.orch = Orchestrator(self.proxies, extra=orchestrator_extra)
        self.addCleanup(self._stop_orchestrator, self.orch)

    def _stop_proxy(self, proxy):
        code = proxy.stop()
        log = proxy.log()
        shutil.rmtree(proxy.dir, ignore_errors=True)
        self.assertNotIn("AddressSanitizer", log)
        self.assertNotIn("runtime error:", log)
        self.assertEqual(code, 0, f"lms exited with {code}; its log:\n{log[-4000:]}")

    def _stop_orchestrator(self, orch):
        code = orch.stop()
        log = orch.log()
        shutil.rmtree(orch.state_dir, ignore_errors=True)
        self.assertNotIn("AddressSanitizer", log)
        self.assertEqual(code, 0, f"lms-orchestrator exited with {code}; its log:\n{log[-4000:]}")

    def cli_json(self, *args):
        r = self.orch.cli(*args, "-o", "json")
        self.assertEqual(r.returncode, 0, f"lms-cli {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
        return json.loads(r.stdout)

    def roles(self):
        return [p["source_of_truth_role"] for p in self.cli_json("status")["proxies"]]


class ConsistentCutoverUnderLoad(CutoverHarness):
    def test_cutover_and_back_under_pgbench_prepared_loses_nothing_and_fails_nothing(self):
        self.start_system()
        before = cs.count(self.source)

        # Forward: source → target, replication source → target checked by the orchestrator.
        load = cs.Load(self.proxies, seconds=8)
        time.sleep(2.5)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("Successfully began consistent cutover with ID 1.", r.stdout)
        self.assertIn("lms-cli cutover get_metadata -i 1", r.stdout)
        time.sleep(0.3)  # requests queue meanwhile
        attempt = self.cli_json("cutover", "consistent", "commit")
        self.assertEqual(attempt["status"], "CommitCompleted")
        self.assertEqual(len(attempt["proxies"]), 3)
        for p in attempt["proxies"]:
            self.assertEqual(p["status"], "CommitCompleted")
            self.assertEqual(p["cutover"]["source_of_truth_role"], "target")
            self.assertTrue(p["trigger_time"] <= p["traffic_paused_time"] <= p["commit_time"])
        at_commit = cs.count(self.source)
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertGreater(processed, 100)
        self.assertGreater(at_commit, before, "the load ran on the source before the cutover")
        self.assertEqual(cs.count(self.target), before + processed,
                         "every transaction pgbench counted is on the target")
        self.assertEqual(cs.count(self.source), at_commit, "the source took no write after the commit")
        self.assertEqual(self.roles(), ["target"] * 3)

        # Back: replication reversed (the source re-seeded from the target), then target → source.
        cs.stop_replication(self.source, self.target, "lms_forward")
        self.source.admin(f"TRUNCATE {cs.PGBENCH_TABLES}, lms_cutover_marker", db=DATABASE)
        cs.replicate(self.target, self.source, "lms_back")
        self.assertEqual(cs.count(self.source), cs.count(self.target))
        middle = cs.count(self.target)
        load = cs.Load(self.proxies, seconds=6)
        time.sleep(2)
        r = self.orch.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ID 2.", r.stdout)
        r = self.orch.cli("cutover", "consistent", "commit")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("CommitCompleted", r.stdout)
        self.assertIn("LMS-Specific Consistent Cutover Metadata.", r.stdout)
        at_commit = cs.count(self.target)
        processed, failed, outputs = load.wait()
        self.assertEqual(failed, 0, "\n".join(outputs))
        self.assertEqual(cs.count(self.source), middle + processed)
        self.assertEqual(cs.count(self.target), at_commit, "the target took no write after the commit back")
        self.assertEqual(self.roles(), ["source"] * 3)
        cs.stop_replication(self.target, self.source, "lms_back")
        # The history keeps both attempts.
        first = self.cli_json("cutover", "get_metadata", "-i", "1")
        self.assertEqual(first["status"], "CommitCompleted")
        self.assertEqual({p["cutover"]["source_of_truth_role"] for p in first["proxies"]}, {"target"})


if __name__ == "__main__":
    unittest.main()
