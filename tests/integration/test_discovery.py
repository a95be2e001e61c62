"""The orchestrator finds the proxies through one DNS name, as the Helm chart's headless Service
publishes them (one address per pod), and follows pods coming and going.

No DNS server runs here: the orchestrator gets a mount namespace of its own whose /etc/hosts maps
`lms-headless.test` to several loopback addresses (glibc returns every line of a name), and the
test rewrites that file as Kubernetes would change the Service's records."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from lmstest import Lms, Orchestrator, TargetTestCase, free_port

NAME = "lms-headless.test"
HOSTS = ["127.0.0.2", "127.0.0.3", "127.0.0.4"]
REPO = os.path.join(os.path.dirname(__file__), "..", "..")


class Discovery(TargetTestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="lms-discovery-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.hosts_file = os.path.join(self.dir, "hosts")
        self.http_port = free_port()

    def publish(self, hosts):
        """Rewrites the name's records in place (the bind mount follows the file, not a path)."""
        with open(self.hosts_file, "w") as f:
            f.write("127.0.0.1 localhost\n")
            for h in hosts:
                f.write(f"{h} {NAME}\n")

    def proxy(self, host, extra=()):
        return self.start_lms(host=host, http_port=self.http_port, workers=1,
                              extra=["--target", self.target.url(), "--target-dialect", "postgres", *extra])

    def orchestrator(self, dns=NAME, extra=(), tls_dir=None):
        orch = Orchestrator([], tls_dir=tls_dir, hosts_file=self.hosts_file,
                            extra=["--lms-dns", dns, "--lms-port", str(self.http_port), "--lms-dns-interval",
                                   "200ms", "--skip-replication-check", *extra])
        self.addCleanup(orch.stop)
        return orch

    def status(self, orch):
        r = orch.cli("status", "-o", "json")
        return r, json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}

    def metric(self, orch, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{orch.metrics_port}/metrics", timeout=10) as r:
            text = r.read().decode()
        found = re.search(rf"^{name} (\S+)$", text, re.M)
        return float(found.group(1)) if found else None

    def test_finds_every_proxy_and_follows_pods_that_come_and_go(self):
        proxies = [self.proxy(h) for h in HOSTS]
        self.publish(HOSTS)
        orch = self.orchestrator()
        r, status = self.status(orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(sorted(p["sql_address"] for p in status["proxies"]),
                         sorted(f"{p.host}:{p.port}" for p in proxies))
        self.wait_for(lambda: self.metric(orch, "lms_orchestrator_proxies_discovered") == 3, "3 proxies")

        # A pod stops: it is still in the records for a moment, and shows as not answering.
        proxies[2].stop()
        r, status = self.status(orch)
        self.assertNotEqual(r.returncode, 0)
        failed = [p for p in status["proxies"] if p.get("error")]
        self.assertEqual([p["control_address"] for p in failed], [f"http://127.0.0.4:{self.http_port}"])

        # Then Kubernetes drops its record: the orchestrator notices and no longer asks it.
        self.publish(HOSTS[:2])
        self.wait_for(lambda: self.metric(orch, "lms_orchestrator_proxies_discovered") == 2, "2 proxies")
        self.assertIn(f"proxy 127.0.0.4:{self.http_port} went away", orch.log())
        r, status = self.status(orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(status["proxies"]), 2)

        # A new pod: found without a restart.
        self.proxy("127.0.0.5")
        self.publish(HOSTS[:2] + ["127.0.0.5"])
        self.wait_for(lambda: "proxy 127.0.0.5" in orch.log(), "the new pod to be seen")
        r, status = self.status(orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn(f"http://127.0.0.5:{self.http_port}", [p["control_address"] for p in status["proxies"]])
        self.assertGreaterEqual(self.metric(orch, "lms_orchestrator_proxy_set_changes_total"), 2)

    def test_a_pod_that_appears_during_a_cutover_stops_the_commit(self):
        # It would serve writes from the old source while the others switched.
        for h in HOSTS[:2]:
            self.proxy(h)
        self.publish(HOSTS[:2])
        orch = self.orchestrator()
        r = orch.cli("cutover", "consistent", "begin", "-o", "json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        newcomer = self.proxy("127.0.0.6")
        self.publish(HOSTS[:2] + ["127.0.0.6"])
        r = orch.cli("cutover", "consistent", "commit", "-o", "json")
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn(f"proxy http://127.0.0.6:{self.http_port} appeared during the cutover", r.stdout + r.stderr)
        # Nobody switched: every proxy, the newcomer included, still serves from the source.
        r, status = self.status(orch)
        self.assertEqual([p["source_of_truth_role"] for p in status["proxies"]], ["source"] * 3)
        self.assertEqual(newcomer.http_get("/v1/cutover")[0], 200)

    def test_https_discovery_checks_the_certificates_name_not_the_pod_address(self):
        certs = os.path.join(self.dir, "certs")
        # The proxies' certificate names the service (besides localhost, 127.0.0.1 and 127.0.0.2),
        # and neither 127.0.0.3 nor 127.0.0.4: checked by address, two of three would fail.
        subprocess.run([os.path.join(REPO, "packaging", "make-certs.sh"), certs], check=True,
                       env=dict(os.environ, LMS_CERT_HOSTS=NAME), capture_output=True)
        ca = os.path.join(certs, "ca.crt")
        tls = ["--control-tls-cert", os.path.join(certs, "server.crt"), "--control-tls-key",
               os.path.join(certs, "server.key"), "--control-tls-ca", ca]
        for h in HOSTS:
            self.proxy(h, tls)
        self.publish(HOSTS)
        orch = self.orchestrator(dns=f"https://{NAME}", tls_dir=certs)
        r, status = self.status(orch)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(len(status["proxies"]), 3)

        # The same pods under a name their certificate does not carry are refused.
        other = os.path.join(self.dir, "hosts-other")
        with open(other, "w") as f:
            f.write("".join(f"{h} lms-other.test\n" for h in HOSTS))
        wrong = Orchestrator([], tls_dir=certs, hosts_file=other,
                             extra=["--lms-dns", "https://lms-other.test", "--lms-port", str(self.http_port)])
        self.addCleanup(wrong.stop)
        r = wrong.cli("status", "-o", "json")
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout + r.stderr, r"(?i)certificate|ssl|tls")


class BrowserAccess(TargetTestCase):
    """orchestrator.allowOrigin: a browser page from that origin may call the API (CORS)."""

    def request(self, orch, method):
        req = urllib.request.Request(f"{orch.url}/v1/status", method=method,
                                     headers={"Origin": "https://ops.example.test",
                                              "Access-Control-Request-Method": "GET"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers)

    def test_allow_origin_answers_preflights_and_marks_responses(self):
        proxy = self.start_lms()
        orch = Orchestrator([proxy], extra=["--allow-origin", "https://ops.example.test"])
        self.addCleanup(orch.stop)
        status, headers = self.request(orch, "OPTIONS")
        self.assertEqual(status, 204)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), "https://ops.example.test")
        self.assertIn("POST", headers.get("Access-Control-Allow-Methods", ""))
        status, headers = self.request(orch, "GET")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Access-Control-Allow-Origin"), "https://ops.example.test")

    def test_without_allow_origin_no_page_is_let_in(self):
        proxy = self.start_lms()
        orch = Orchestrator([proxy])
        self.addCleanup(orch.stop)
        status, headers = self.request(orch, "GET")
        self.assertEqual(status, 200)
        self.assertNotIn("Access-Control-Allow-Origin", headers)


class DialectCheck(TargetTestCase):
    def test_an_orchestrator_for_another_dialect_refuses_to_begin(self):
        proxy = self.start_lms(extra=["--target", self.target.url(), "--target-dialect", "postgres"])
        orch = Orchestrator([proxy], extra=["--source-dialect", "cockroach", "--skip-replication-check"])
        self.addCleanup(orch.stop)
        r = orch.cli("cutover", "consistent", "begin")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("has source dialect PostgreSQL, and this orchestrator was configured for Cockroach",
                      r.stdout + r.stderr)
        self.assertEqual(proxy.http_get("/readyz")[0], 200)
        right = Orchestrator([proxy], extra=["--source-dialect", "postgres", "--skip-replication-check"])
        self.addCleanup(right.stop)
        r = right.cli("cutover", "consistent", "begin")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(right.cli("cutover", "consistent", "abort").returncode, 0)
