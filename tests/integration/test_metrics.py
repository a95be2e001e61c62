"""The metrics as Prometheus sees them: a real Prometheus server (Debian's) scrapes a running proxy
and orchestrator, `promtool check metrics` passes on both outputs, and docs/metrics.md lists
exactly the families they serve, with their types."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from lmstest import Orchestrator, TargetTestCase, free_port, psql, wait_for_port

REPO = os.path.join(os.path.dirname(__file__), "..", "..")


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read().decode()


def families(text):
    """{name: type} from the # TYPE lines of an exposition."""
    return dict(re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M))


def documented():
    """{name: type} from the tables of docs/metrics.md."""
    with open(os.path.join(REPO, "docs", "metrics.md")) as f:
        return dict(re.findall(r"^\| `(lms_[a-z_]+)` \| (counter|gauge|histogram) \|", f.read(), re.M))


class Metrics(TargetTestCase):
    def setUp(self):
        self.proxy = self.start_lms(extra=["--target", self.target.url(), "--target-dialect", "postgres",
                                           "--shadow-mode", "sync"])
        self.orch = Orchestrator([], extra=["--lms-dns", "127.0.0.1", "--lms-port", str(self.proxy.http_port)])
        self.addCleanup(self.orch.stop)
        r = psql(self.proxy.url(), "-Atc", "SELECT 1")
        self.assertEqual(r.stdout.strip(), "1", r.stderr)
        self.proxy_metrics = f"http://127.0.0.1:{self.proxy.http_port}/metrics"
        self.orch_metrics = f"http://127.0.0.1:{self.orch.metrics_port}/metrics"
        # The orchestrator resolves its name once before it counts proxies.
        self.assertEqual(self.orch.cli("status").returncode, 0)

    def test_promtool_finds_nothing_to_complain_about(self):
        for url in (self.proxy_metrics, self.orch_metrics):
            r = subprocess.run(["promtool", "check", "metrics"], input=get(url), capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"{url}:\n{r.stdout}{r.stderr}")
            self.assertEqual(r.stdout + r.stderr, "")

    def test_the_documentation_lists_every_family_served_and_no_other(self):
        served = {**families(get(self.proxy_metrics)), **families(get(self.orch_metrics))}
        self.assertGreater(len(served), 30)
        self.assertEqual(documented(), served)

    def test_a_real_prometheus_scrapes_both(self):
        work = tempfile.mkdtemp(prefix="lms-prometheus-")
        self.addCleanup(shutil.rmtree, work, True)
        port = free_port()
        config = os.path.join(work, "prometheus.yml")
        with open(config, "w") as f:
            f.write(f"""global:
  scrape_interval: 1s
scrape_configs:
  - job_name: lms
    static_configs: [{{targets: ["127.0.0.1:{self.proxy.http_port}"]}}]
  - job_name: lms-orchestrator
    static_configs: [{{targets: ["127.0.0.1:{self.orch.metrics_port}"]}}]
""")
        r = subprocess.run(["promtool", "check", "config", config], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        log = open(os.path.join(work, "prometheus.log"), "w")
        server = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={work}/data",
                                   f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (server.terminate(), server.wait(), log.close()))
        wait_for_port(port, timeout=30)
        deadline = time.time() + 30
        while time.time() < deadline:  # the port opens before the storage is ready
            try:
                get(f"http://127.0.0.1:{port}/-/ready")
                break
            except urllib.error.HTTPError:
                time.sleep(0.2)

        def query(expr):
            body = get(f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
            return {s["metric"].get("job", ""): float(s["value"][1]) for s in json.loads(body)["data"]["result"]}

        deadline = time.time() + 30
        while time.time() < deadline and query("up") != {"lms": 1.0, "lms-orchestrator": 1.0}:
            time.sleep(0.5)
        self.assertEqual(query("up"), {"lms": 1.0, "lms-orchestrator": 1.0})
        # What a dashboard shows: values that follow what clients did.
        for _ in range(5):
            psql(self.proxy.url(), "-Atc", "SELECT 1")
        targets = 'sum(lms_request_duration_seconds_count{database="target"})'
        deadline = time.time() + 15
        while time.time() < deadline and (query("lms_client_connections_total").get("lms", 0) < 6 or
                                          query(targets).get("", 0) < 6):
            time.sleep(0.5)  # one scrape may come between a client's answer and the target's count
        self.assertGreaterEqual(query("lms_client_connections_total")["lms"], 6)
        self.assertGreaterEqual(query(targets)[""], 6)
        self.assertEqual(query("lms_orchestrator_proxies_discovered"), {"lms-orchestrator": 1.0})
        quantile = query('histogram_quantile(0.99, sum by (le) (lms_request_duration_seconds_bucket{database="source"}))')
        self.assertGreater(quantile[""], 0)
