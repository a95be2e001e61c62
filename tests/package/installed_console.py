#!/usr/bin/env python3
"""The console of an installed lms-orchestrator: started with no --console-dir, it must find its
pages relative to itself (PREFIX/share/lms/console) and serve them, Chart.js included. Prints
what it served; exits non-zero when anything fails.

    tests/package/installed_console.py /path/to/installed/bin/lms-orchestrator
"""
import os
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import lmstest  # noqa: E402


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    state = tempfile.mkdtemp(prefix="lms-installed-console-")
    port = lmstest.free_port()
    log = open(os.path.join(state, "orchestrator.log"), "w")
    proc = subprocess.Popen([sys.argv[1], "--listen", f"127.0.0.1:{port}", "--metrics-listen",
                             f"127.0.0.1:{lmstest.free_port()}", "--state-dir", state], stdout=log, stderr=subprocess.STDOUT)
    try:
        lmstest.wait_for_port(port)
        served = []
        for path in ("/", "/app.js", "/chart.min.js"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                body = r.read().decode()
                if r.status != 200 or len(body) < 100:
                    sys.exit(f"installed console: {path} answered {r.status} with {len(body)} bytes")
                served.append(f"{path} {len(body)} bytes")
        print("the installed console served " + ", ".join(served))
    finally:
        proc.terminate()
        proc.wait()
        log.close()


if __name__ == "__main__":
    main()
