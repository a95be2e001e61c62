"""Memory stays bounded: a 200 MB result streams through, to a fast and to a slow reader, and 500
idle clients cost little."""
import os
import re
import resource
import subprocess
import threading
import time
import unittest

from lmstest import DATABASE, PASSWORD, SANITIZED, USER, LmsTestCase

RSS_LIMIT_KB = 64 * 1024
ROWS = 200_000
ROW_TEXT = 1000
BIG_COPY = f"COPY (SELECT repeat('x', {ROW_TEXT}) FROM generate_series(1, {ROWS})) TO STDOUT"


class PeakRss:
    """Samples a process's RSS in the background."""

    def __init__(self, proxy):
        self.proxy = proxy
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.proxy.rss_kb())
            except (OSError, RuntimeError):
                pass
            time.sleep(0.02)

    def stop(self):
        self._stop.set()
        self._thread.join()
        return self.peak


class MemoryIsBounded(LmsTestCase):
    def assert_rss_below_limit(self, peak_kb):
        # Under ASan every allocation carries shadow memory and quarantine, so the figure measures
        # the sanitizer, not lms; the release build of the same suite asserts the bound.
        if not SANITIZED:
            self.assertLess(peak_kb, RSS_LIMIT_KB, f"peak RSS {peak_kb} kB")

    def stream(self, reader):
        proxy = self.start_lms()
        sampler = PeakRss(proxy)
        cmd = f"psql '{proxy.url()}' -X -c \"{BIG_COPY}\" | {reader}"
        r = subprocess.run(["bash", "-o", "pipefail", "-c", cmd], capture_output=True, text=True, timeout=600)
        peak = sampler.stop()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(int(r.stdout.strip()), ROWS * (ROW_TEXT + 1))
        return proxy, peak

    def test_200mb_result_streams_with_bounded_memory(self):
        proxy, peak = self.stream("wc -c")
        print(f"\n200 MB to a fast reader: peak lms RSS {peak} kB")
        self.assert_rss_below_limit(peak)

    def test_slow_reader_makes_lms_stop_reading_the_source(self):
        # The reader takes nothing for 3 s, then reads: lms must hold back, not buffer 200 MB.
        proxy, peak = self.stream("(sleep 3; wc -c)")
        print(f"\n200 MB to a slow reader: peak lms RSS {peak} kB")
        self.assert_rss_below_limit(peak)
        metrics = proxy.http_get("/metrics")[1]
        pauses = int(re.search(r"lms_backpressure_pauses_total (\d+)", metrics).group(1))
        self.assertGreater(pauses, 0)

    def test_500_idle_clients(self):
        proxy = self.start_lms()
        with open(os.path.join(proxy.dir, "idle.sql"), "w") as f:
            f.write("\\sleep 6 s\nSELECT 1;\n")

        def more_files():
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

        env = dict(os.environ, PGPASSWORD=PASSWORD)
        bench = subprocess.Popen(
            ["pgbench", "-h", "127.0.0.1", "-p", str(proxy.port), "-U", USER, "-n", "-c", "500", "-j", "2",
             "-t", "1", "-f", os.path.join(proxy.dir, "idle.sql"), DATABASE],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, preexec_fn=more_files)
        open_clients = 0
        deadline = time.time() + 60
        while time.time() < deadline and open_clients < 500:
            text = proxy.http_get("/metrics")[1]
            open_clients = int(re.search(r"lms_client_connections_open (\d+)", text).group(1))
            time.sleep(0.2)
        self.assertEqual(open_clients, 500)
        rss = proxy.rss_kb()
        print(f"\n500 idle clients: lms RSS {rss} kB")
        self.assert_rss_below_limit(rss)
        out, err = bench.communicate(timeout=120)
        self.assertEqual(bench.returncode, 0, out + err)
        self.assertIn("number of transactions actually processed: 500/500", out)


if __name__ == "__main__":
    unittest.main()
