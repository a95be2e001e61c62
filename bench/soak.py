#!/usr/bin/env python3
"""A long mixed load with cutovers back and forth; see soak.sh."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import cutover_setup as cs  # noqa: E402
import lmstest  # noqa: E402

SECONDS = int(os.environ.get("LMS_SOAK_SECONDS", "600"))
CUTOVER_EVERY = int(os.environ.get("LMS_SOAK_CUTOVER_EVERY", "60"))
SAMPLE_EVERY = int(os.environ.get("LMS_SOAK_SAMPLE_EVERY", "10"))


def resources(pid):
    """(RSS in KB, open file descriptors) of a process."""
    rss = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def load(proxies, seconds):
    """pgbench through every proxy: nine read-only transactions to one TPC-B-like write, prepared
    statements, sessions that live through every cutover."""
    return [subprocess.Popen(["pgbench", "-n", "-M", "prepared", "-c", "4", "-j", "1", "-T", str(seconds),
                              "-b", "select-only@9", "-b", "tpcb-like@1", proxy.url()],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for proxy in proxies]


def growth(samples):
    """Last third's median over the first third's, after the first sample (warm-up)."""
    body = samples[1:]
    third = max(1, len(body) // 3)
    first = sorted(body[:third])[third // 2]
    last = sorted(body[-third:])[third // 2]
    return last / first if first else float("nan")


def main():
    one = cs.logical_server()
    two = cs.logical_server()
    proxies, orch = [], None
    try:
        for server in (one, two):  # the same rows on both
            subprocess.run(["pgbench", "-i", "-q", "-s", "1", server.url()], check=True, capture_output=True)
            server.admin(cs.MARKER_TABLE, db=lmstest.DATABASE)
            server.admin(f"ALTER TABLE lms_cutover_marker OWNER TO {lmstest.USER}", db=lmstest.DATABASE)
        # Dual writes (shadow mode sync) keep both databases in step without replication, and the
        # shadowing turns around with each switch.
        proxies = cs.proxies_for(one, two, n=2, extra=["--shadow-mode", "sync"])
        orch = lmstest.Orchestrator(proxies, extra=["--skip-replication-check"])
        watched = [(f"lms {i + 1}", p.proc.pid) for i, p in enumerate(proxies)] + [("orchestrator", orch.proc.pid)]
        print(f"soak: {SECONDS}s of pgbench through {len(proxies)} proxies (4 clients each, 9 reads : 1 write, "
              f"prepared), shadow mode sync, a cutover every {CUTOVER_EVERY}s; {os.cpu_count()} cores")
        print(f"{'t (s)':>6} {'truth':>7} " + " ".join(f"{name + ' RSS MB':>17} {'fds':>4}" for name, _ in watched))
        procs = load(proxies, SECONDS)
        started = time.time()
        next_cutover = started + CUTOVER_EVERY
        next_sample = started
        history = {name: ([], []) for name, _ in watched}
        cutovers, cutover_errors = 0, []
        truth = "one"
        while time.time() - started < SECONDS - 2:
            now = time.time()
            if now >= next_sample:
                row = []
                for name, pid in watched:
                    rss, fds = resources(pid)
                    history[name][0].append(rss)
                    history[name][1].append(fds)
                    row.append(f"{rss / 1024:17.1f} {fds:4}")
                print(f"{now - started:6.0f} {truth:>7} " + " ".join(row), flush=True)
                next_sample += SAMPLE_EVERY
            if now >= next_cutover and now - started < SECONDS - 10:
                for step in ("begin", "commit"):
                    r = orch.cli("cutover", "consistent", step)
                    if r.returncode != 0:
                        cutover_errors.append(f"{step} at {now - started:.0f}s: {r.stdout}{r.stderr}".strip())
                        orch.cli("cutover", "consistent", "abort")
                        break
                else:
                    cutovers += 1
                    truth = "two" if truth == "one" else "one"
                next_cutover += CUTOVER_EVERY
            time.sleep(0.5)
        failed, processed, client_errors = 0, 0, []
        for p in procs:
            out, err = p.communicate(timeout=SECONDS + 120)
            processed += int(re.search(r"actually processed: (\d+)", out).group(1)) if "actually processed" in out else 0
            m = re.search(r"number of failed transactions: (\d+)", out)
            failed += int(m.group(1)) if m else 0
            client_errors += [line for line in err.splitlines() if "error" in line.lower() or "abort" in line.lower()]
        print(f"\n{processed} transactions, {failed} failed, {len(client_errors)} client error lines; "
              f"{cutovers} cutovers, {len(cutover_errors)} refused")
        for line in (client_errors + cutover_errors)[:20]:
            print("  " + line)
        for name, (rss, fds) in history.items():
            print(f"{name}: RSS {rss[0] / 1024:.1f} → {rss[-1] / 1024:.1f} MB (growth x{growth(rss):.2f}), "
                  f"fds {fds[0]} → {fds[-1]} (growth x{growth(fds):.2f})")
        history_rows = [cs.count(s) for s in (one, two)]
        print(f"pgbench_history rows: {history_rows[0]} and {history_rows[1]} "
              f"({'equal' if history_rows[0] == history_rows[1] else 'DIFFERENT'})")
    finally:
        if orch:
            orch.stop()
        for p in proxies:
            p.stop()
        two.destroy()
        one.destroy()


if __name__ == "__main__":
    main()
