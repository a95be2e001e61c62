"""The migration console in a real browser (Debian's headless Chromium through chromedriver):
three proxies under pgbench, the orchestrator serving the console, and an operator who watches the
proxies and sessions, finds a statement that fails on the target only, runs the checks, begins,
commits and, for a second attempt, aborts, all from the page. What is asserted is what the page
shows; a screenshot of each view is kept under the build folder (console-screenshots/).

Runs under Debian's own python3, which has python3-selenium."""
import json
import os
import re
import shutil
import signal
import subprocess
import time
import unittest
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import cutover_setup as cs
from lmstest import BUILD_DIR, DATABASE, ORCHESTRATOR_BIN, USER, Orchestrator, Waiting, free_port, psql, wait_for_port

SCREENSHOTS = os.path.join(BUILD_DIR, "console-screenshots")
CLIENTS = 6


def browser():
    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,1100",
                "--disable-gpu", "--lang=en-US"):
        options.add_argument(arg)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def machine_address():
    """This machine's own non-loopback IPv4 address (a request from it is not from loopback)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    return m.group(1) if m else None


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


class ConsoleHarness(Waiting, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.source = cs.logical_server()
        cls.target = cs.logical_server()
        cs.prepare_pgbench(cls.source, cls.target)
        cs.replicate(cls.source, cls.target, "lms_console")
        # A table the application uses that nobody created on the target (made after the
        # subscription, so the replication leaves it alone): its statements fail there only.
        cls.source.admin("CREATE TABLE loyalty (id INT PRIMARY KEY, points INT)", db=DATABASE)
        cls.source.admin(f"ALTER TABLE loyalty OWNER TO {USER}", db=DATABASE)
        os.makedirs(SCREENSHOTS, exist_ok=True)

    @classmethod
    def tearDownClass(cls):
        cls.target.destroy()
        cls.source.destroy()

    def start_system(self):
        self.proxies = cs.proxies_for(self.source, self.target, extra=["--shadow-mode", "async"])
        for p in self.proxies:
            self.addCleanup(self._stop, p)
        self.orch = Orchestrator(self.proxies, extra=["--metrics-sample-interval", "1s"])
        self.addCleanup(self._stop, self.orch)

    def _stop(self, process):
        code = process.stop()
        self.assertNotIn("AddressSanitizer", process.log())
        self.assertEqual(code, 0, process.log()[-3000:])


class ConsoleInABrowser(ConsoleHarness):
    def setUp(self):
        self.start_system()
        self.driver = browser()
        self.addCleanup(self.driver.quit)

    # What the page shows ------------------------------------------------------------------------

    def until(self, predicate, what, timeout=30):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.2).until(lambda d: predicate())
        except Exception:
            self.driver.save_screenshot(os.path.join(SCREENSHOTS, "failed.png"))
            self.fail(f"the console never showed {what}; the page said:\n{self.text('body')[:3000]}")

    # Read in one script call each: the views redraw every two seconds, and an element found in
    # one call may be gone by the next.
    def text(self, css):
        return self.driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", css)

    def rows(self, table_id):
        return self.driver.execute_script(
            "return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]"
            ".map(tr => [...tr.querySelectorAll('td')].map(td => td.innerText));", table_id)

    def open_view(self, name):
        self.driver.find_element(By.CSS_SELECTOR, f'nav a[data-view="{name}"]').click()
        self.until(lambda: self.driver.execute_script("return location.hash") == f"#{name}", f"the {name} view")

    def shoot(self, name):
        """The whole view: the window grows to the page's height for the picture."""
        height = self.driver.execute_script("return document.documentElement.scrollHeight")
        self.driver.set_window_size(1500, min(max(height + 120, 1100), 3000))
        time.sleep(0.4)  # the charts' redraw at the new size
        self.driver.save_screenshot(os.path.join(SCREENSHOTS, f"{name}.png"))
        self.driver.set_window_size(1500, 1100)

    def chart_data(self, canvas_id):
        return self.driver.execute_script(
            "const c = Chart.getChart(arguments[0]); return c ? c.data.datasets.map(d => d.data) : null;", canvas_id)

    def click(self, element):
        """As a user would: scrolled to the middle of the window first, clear of the fixed status
        line whatever the window's height."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.click()

    def press(self, button_id, confirm=True):
        """Clicks a step's button and answers its confirmation; returns the confirmation's text."""
        self.until(lambda: self.driver.find_element(By.ID, button_id).is_enabled(), f"{button_id} enabled")
        self.click(self.driver.find_element(By.ID, button_id))
        self.until(lambda: self.driver.find_element(By.ID, "confirm").is_displayed(), "the confirmation")
        said = self.text("#confirm-text")
        self.click(self.driver.find_element(By.ID, "confirm-ok" if confirm else "confirm-cancel"))
        return said

    def api(self, path):
        return json.loads(fetch(self.orch.url + path)[2])

    # The operator's afternoon -------------------------------------------------------------------

    def test_an_operator_watches_checks_and_cuts_over_from_the_browser(self):
        # The load runs until the operator is done, however long the steps take on this machine:
        # -T only bounds it, and SIGALRM (what ends pgbench's -T) stops it with its full report.
        load = subprocess.Popen(
            ["pgbench", "-n", "-S", "-M", "prepared", "-c", str(CLIENTS), "-j", "2", "-T", "300", self.proxies[0].url()],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        others = [subprocess.Popen(["pgbench", "-n", "-S", "-c", "1", "-T", "300", p.url()], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True) for p in self.proxies[1:]]
        self.addCleanup(lambda: [p.poll() is None and p.kill() for p in [load, *others]])
        self.driver.get(self.orch.url + "/")

        # Overview: three proxies, ready, served by the source, with the load's sessions.
        self.until(lambda: len(self.rows("proxies")) == 3 and all("yes" in r[2] for r in self.rows("proxies")),
                   "three ready proxies")
        self.until(lambda: int(self.text("#figure-sessions .value") or 0) >= CLIENTS + 2, "the load's sessions")
        self.until(lambda: self.text("#figure-rps .value") not in ("", "–", "0"), "requests per second")
        self.assertIn("(source)", self.text("#truth-name"))
        self.assertEqual({r[3] for r in self.rows("proxies")}, {r[3] for r in self.rows("proxies")[:1]})
        self.assertIn("No cutover in progress", self.text("#cutover-banner"))
        self.shoot("overview")

        # Sessions, reached by keyboard: every session with its normalized statement; filtered by proxy.
        link = self.driver.find_element(By.CSS_SELECTOR, 'nav a[data-view="sessions"]')
        link.send_keys(Keys.ENTER)
        self.until(lambda: len(self.rows("sessions")) >= CLIENTS + 2, "every session")
        statements = {r[6] for r in self.rows("sessions")}
        self.assertTrue(any("pgbench_accounts WHERE aid = $1" in s or "aid = ?" in s for s in statements), statements)
        Select(self.driver.find_element(By.ID, "filter-proxy")).select_by_value(
            f"http://127.0.0.1:{self.proxies[1].http_port}")
        self.until(lambda: self.text("#sessions-count").startswith("1 of"), "one proxy's session")
        self.shoot("sessions")

        # Readiness: the application's statement on the table the target lacks fails there only.
        for i in range(5):
            r = psql(self.proxies[i % 3].url(), "-Atc", f"SELECT points FROM loyalty WHERE id = {i}")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.open_view("readiness")
        self.until(lambda: any("loyalty" in r[0] and r[2] == "5" for r in self.rows("statements")),
                   "the loyalty statement with 5 target errors")
        row = next(r for r in self.rows("statements") if "loyalty" in r[0])
        self.assertEqual(row[0], "SELECT points FROM loyalty WHERE id = ?")  # never the literal
        self.assertIn('relation "loyalty" does not exist', row[3])
        self.assertEqual(self.rows("statements")[0][0], row[0], "the worst statement comes first")
        self.assertNotEqual(self.text("#figure-target-errors .value"), "0")
        self.until(lambda: (self.chart_data("latency-chart") or [[]])[1], "the latency bars")
        self.shoot("readiness")

        # Cutover: the checks name what is wrong before anything pauses.
        self.open_view("cutover")
        self.until(lambda: "No cutover yet" in self.text("#attempt-status"), "no attempt yet")
        self.click(self.driver.find_element(By.ID, "run-checks"))
        self.until(lambda: len(self.rows("checks")) >= 4, "the checks")
        checks = {r[0]: (r[1], r[2]) for r in self.rows("checks")}
        self.assertEqual(checks["proxies answer and agree"][0], "pass", checks)
        self.assertEqual(checks["the target answers as the source does"][0], "fail", checks)
        self.assertIn("loyalty", checks["the target answers as the source does"][1])
        self.assertEqual(checks["no cutover in progress"][0], "pass", checks)
        # The confirmation is a real guard: cancelling it begins nothing.
        self.press("begin", confirm=False)
        time.sleep(0.5)
        self.assertIn("No cutover yet", self.text("#attempt-status"))
        self.assertEqual(self.api("/v1/cutover/history")["attempts"], [])
        # Begin runs the preflight first: it fails, nothing pauses, and its checks replace the table,
        # the missing table named.
        said = self.press("begin")
        self.assertIn("The preflight checks run first", said)
        self.until(lambda: "preflight failed, nothing was paused" in self.text("#outcome"), "the refused begin")
        checks = {r[0]: (r[1], r[2]) for r in self.rows("checks")}
        self.assertEqual(checks["tables the application uses exist on the other database"][0], "fail", checks)
        self.assertIn("missing there: loyalty", checks["tables the application uses exist on the other database"][1])
        self.assertEqual(checks["replication carries the marker"][0], "pass", checks)
        self.assertEqual(self.api("/v1/cutover/history")["attempts"], [])
        # The operator accepts it (the table is for a feature being retired) and begins without it.
        box = self.driver.find_element(By.ID, "preflight-first")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", box)
        self.click(box)
        self.assertFalse(box.is_selected())
        field = self.driver.find_element(By.ID, "begin-timeout")
        field.clear()
        field.send_keys("10")
        said = self.press("begin")
        self.assertIn("3 proxies", said)
        self.assertIn("10 s", said)
        self.assertIn("The preflight checks are skipped", said)
        self.until(lambda: "TrafficPaused" in self.text("#attempt-status"), "the pause complete")
        self.assertIn("in progress", self.text("#cutover-banner"))
        self.until(lambda: all(d is not None for d in (self.chart_data("timeline-chart") or [[None]])[1]),
                   "each proxy's stall on the timeline")
        self.shoot("cutover-paused")
        said = self.press("commit")
        self.assertIn("replication marker", said)
        self.until(lambda: "CommitCompleted" in self.text("#attempt-status"), "the commit", timeout=60)
        self.until(lambda: "(target)" in self.text("#truth-name"), "the target as source of truth")
        self.assertEqual([p["source_of_truth_role"] for p in self.api("/v1/status")["proxies"]], ["target"] * 3)
        self.assertEqual([r[1] for r in self.rows("attempt-proxies")], ["CommitCompleted"] * 3)
        self.shoot("cutover")

        # A second attempt, aborted from the page: traffic resumes on the target.
        self.press("begin")
        self.until(lambda: "TrafficPaused" in self.text("#attempt-status") and "Cutover 2" in self.text("#attempt-status"),
                   "the second pause")
        said = self.press("abort")
        self.assertIn("resume on", said)
        self.until(lambda: "Aborted" in self.text("#attempt-status"), "the abort")
        self.assertEqual([p["source_of_truth_role"] for p in self.api("/v1/status")["proxies"]], ["target"] * 3)

        # Metrics: the load moved from the source's line to the target's.
        self.open_view("metrics")
        # Datasets: served by the source, served by the target, shadowed to each.
        self.until(lambda: any(p["y"] > 0 for p in (self.chart_data("rps-chart") or [[], []])[1]),
                   "requests served by the target after the switch", timeout=20)
        served_by_source = self.chart_data("rps-chart")[0]
        self.assertTrue(any(p["y"] > 0 for p in served_by_source), "requests served by the source before")
        self.assertEqual(served_by_source[-1]["y"], 0, "the source still served after the switch")
        self.assertEqual({r[1] for r in self.rows("metrics-proxy-table")}, {"target"})
        self.shoot("metrics")

        # History: both attempts, newest first, each with its timeline.
        self.open_view("history")
        self.until(lambda: self.text("#history-count") == "2 attempts", "two attempts")
        titles = self.driver.execute_script("return [...document.querySelectorAll('section.attempt h2')].map(h => h.innerText)")
        self.assertEqual(titles, ["Cutover 2: Aborted", "Cutover 1: CommitCompleted"], self.text("body"))
        self.assertEqual([r[1] for r in self.rows("attempt-1-proxies")], ["CommitCompleted"] * 3)
        self.assertIsNotNone(self.chart_data("timeline-1"))
        self.shoot("history")

        # The load carried on through both attempts without one error.
        for p in [load, *others]:
            self.assertIsNone(p.poll(), "the load ended before the operator was done")
            p.send_signal(signal.SIGALRM)
        for p in [load, *others]:
            out, err = p.communicate(timeout=60)
            self.assertEqual(p.returncode, 0, out + err)
            self.assertRegex(out, r"number of failed transactions: 0 ")
            processed = int(re.search(r"actually processed: (\d+)", out).group(1))
            self.assertGreater(processed, 100, out)
        # Nor did the page: no script error, no request the page's policy refused (the browser logs the
        # begin the preflight refused, which the page showed as it should).
        severe = [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"
                  and not ("/v1/cutover/begin" in e["message"] and "409 (Conflict)" in e["message"])]
        self.assertEqual(severe, [], "\n".join(e["message"] for e in severe))


class ConsoleAccess(unittest.TestCase):
    """The console is under exactly the API's access rules."""

    def test_another_address_is_refused_as_the_api_is_and_the_pages_carry_no_secret(self):
        address = machine_address()
        if address is None:
            self.skipTest("this machine has no non-loopback address to call from")
        port = free_port()
        state = os.path.join(BUILD_DIR, "console-access-state")
        shutil.rmtree(state, ignore_errors=True)
        os.makedirs(SCREENSHOTS, exist_ok=True)
        log = open(os.path.join(SCREENSHOTS, "access-orchestrator.log"), "w")
        proc = subprocess.Popen([ORCHESTRATOR_BIN, "--listen", f"0.0.0.0:{port}", "--metrics-listen",
                                 f"127.0.0.1:{free_port()}", "--state-dir", state], stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(), log.close(), shutil.rmtree(state, ignore_errors=True)))
        wait_for_port(port)
        api_status, _, api_body = fetch(f"http://{address}:{port}/v1/status")
        self.assertEqual(api_status, 403)
        for path in ("/", "/index.html", "/app.js", "/chart.min.js"):
            status, _, body = fetch(f"http://{address}:{port}{path}")
            self.assertEqual((status, body), (403, api_body), path)
        # Another site's page in the operator's browser can send a text/plain POST without asking
        # first; the API takes steps only as application/json, which a browser sends across sites
        # only after a preflight the orchestrator refuses.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/cutover/begin", data=b"{}", method="POST",
                                         headers={"Content-Type": "text/plain", "Origin": "http://elsewhere.example"})
        try:
            urllib.request.urlopen(request, timeout=10)
            self.fail("a text/plain POST was taken")
        except urllib.error.HTTPError as e:
            self.assertEqual(e.code, 415)
            self.assertIn("application/json", e.read().decode())
        # From this machine the pages are served, whole, with a policy that loads nothing from elsewhere.
        status, headers, page = fetch(f"http://127.0.0.1:{port}/")
        self.assertEqual(status, 200)
        self.assertIn('<script type="module" src="app.js">', page)
        self.assertIn("default-src 'self'", headers.get("Content-Security-Policy", ""))
        status, headers, script = fetch(f"http://127.0.0.1:{port}/chart.min.js")
        self.assertEqual(status, 200)
        self.assertIn("javascript", headers.get("Content-Type", ""))
        self.assertIn("Chart", script[:2000])
        for name in ("index.html", "app.js", "api.js", "cutover.js"):
            status, _, text = fetch(f"http://127.0.0.1:{port}/{name}")
            self.assertEqual(status, 200, name)
            self.assertNotRegex(text, r"https?://(?!127\.0\.0\.1|www\.w3\.org/2000/svg)", f"{name} reaches off the machine")


if __name__ == "__main__":
    unittest.main()
