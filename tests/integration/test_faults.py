"""Bad input and failing databases: the client gets a clear error, nothing is lost, lms stays up,
and the next connection works."""
import signal
import socket
import struct
import subprocess
import time
import unittest

from lmstest import DATABASE, USER, LmsTestCase, Lms, psql, wait_for_port


def read_message(sock):
    header = b""
    while len(header) < 5:
        part = sock.recv(5 - len(header))
        if not part:
            return None, b""
        header += part
    length = struct.unpack("!I", header[1:5])[0] - 4
    body = b""
    while len(body) < length:
        part = sock.recv(length - len(body))
        if not part:
            break
        body += part
    return header[:1], body


def error_fields(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode()
    return fields


def startup_packet(**params):
    body = struct.pack("!I", 196608)
    for k, v in params.items():
        body += k.encode() + b"\0" + v.encode() + b"\0"
    body += b"\0"
    return struct.pack("!I", len(body) + 4) + body


class BadInput(LmsTestCase):
    def setUp(self):
        self.proxy = self.start_lms()

    def assert_still_serving(self):
        self.assertTrue(self.proxy.alive())
        r = psql(self.proxy.url(), "-Atc", "SELECT 42")
        self.assertEqual(r.stdout.strip(), "42", r.stderr)

    def raw_exchange(self, payload):
        with socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10) as s:
            s.sendall(payload)
            return read_message(s)

    def test_garbage_startup_gets_a_protocol_error(self):
        kind, body = self.raw_exchange(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertEqual(kind, b"E")
        self.assertEqual(error_fields(body)["C"], "08P01")
        self.assert_still_serving()

    def test_oversized_startup_length_is_refused(self):
        kind, body = self.raw_exchange(struct.pack("!II", 0x7FFFFFFF, 196608))
        self.assertEqual(kind, b"E")
        self.assertEqual(error_fields(body)["M"], "invalid length of startup packet")
        self.assert_still_serving()

    def test_truncated_startup_then_hang_up(self):
        with socket.create_connection(("127.0.0.1", self.proxy.port)) as s:
            s.sendall(startup_packet(user=USER)[:7])
        self.assert_still_serving()

    def test_wrong_password_is_refused(self):
        r = psql(self.proxy.url(password="not-it"), "-c", "SELECT 1")
        self.assertEqual(r.returncode, 2)
        self.assertIn('FATAL:  password authentication failed for user "app"', r.stderr)
        r = psql(self.proxy.url(user="intruder", password="x"), "-c", "SELECT 1")
        self.assertIn('password authentication failed for user "intruder"', r.stderr)
        metrics = self.proxy.http_get("/metrics")[1]
        self.assertRegex(metrics, r'lms_errors_total\{database="client",kind="auth"\} [2-9]')
        self.assert_still_serving()

    def test_client_vanishing_mid_result_frees_its_database_session(self):
        proc = subprocess.Popen(["psql", self.proxy.url(), "-X", "-c",
                                 "COPY (SELECT repeat('x', 1000) FROM generate_series(1, 2000000)) TO STDOUT"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        proc.stdout.read(5_000_000)
        proc.kill()
        proc.wait()
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{USER}'") == "0":
                break
            time.sleep(0.1)
        else:
            self.fail("the database session of a vanished client is still there")
        self.assert_still_serving()


class ConnectionLimit(LmsTestCase):
    def test_over_max_connections_is_refused_in_the_protocol(self):
        proxy = self.start_lms(extra=["--max-connections", "2"])
        held = [subprocess.Popen(["psql", proxy.url(), "-X", "-c", "SELECT pg_sleep(4)"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{USER}'") == "2":
                break
            time.sleep(0.1)
        r = psql(proxy.url(), "-c", "SELECT 1")
        self.assertEqual(r.returncode, 2)
        self.assertIn("FATAL:  sorry, too many clients already", r.stderr)
        self.assertRegex(proxy.http_get("/metrics")[1], r"lms_client_connections_rejected_total [1-9]")
        for p in held:
            self.assertEqual(p.wait(timeout=30), 0)
        r = psql(proxy.url(), "-Atc", "SELECT 'room again'")
        self.assertEqual(r.stdout.strip(), "room again", r.stderr)


class InvalidMessagesAfterLogin(LmsTestCase):
    """With trust on the client side a raw socket can reach the forwarding phase."""

    def setUp(self):
        self.proxy = self.start_lms(extra=["--auth-method", "trust"])

    def logged_in_socket(self):
        s = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=10)
        s.sendall(startup_packet(user=USER, database=DATABASE))
        while True:
            kind, body = read_message(s)
            self.assertIsNotNone(kind)
            if kind == b"Z":
                return s

    def test_unknown_message_type_is_a_protocol_error(self):
        with self.logged_in_socket() as s:
            s.sendall(b"z\0\0\0\x04")
            kind, body = read_message(s)
            self.assertEqual(kind, b"E")
            fields = error_fields(body)
            self.assertEqual(fields["C"], "08P01")
            self.assertIn("invalid message from the client", fields["M"])
            self.assertEqual(s.recv(10), b"")

    def test_oversized_message_is_a_protocol_error(self):
        with self.logged_in_socket() as s:
            s.sendall(b"Q\x7f\xff\xff\xff")
            kind, body = read_message(s)
            self.assertEqual(error_fields(body)["M"], "lms: invalid message from the client: message length above 1 GiB")

    def test_truncated_query_then_hang_up_leaves_no_session(self):
        with self.logged_in_socket() as s:
            s.sendall(b"Q\0\0\0\x20SELECT")
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.pg.admin(f"SELECT count(*) FROM pg_stat_activity WHERE usename = '{USER}'") == "0":
                return
            time.sleep(0.1)
        self.fail("the database session of a half-sent query is still there")


class DatabaseFailures(LmsTestCase):
    def setUp(self):
        self.proxy = self.start_lms()

    def wait_active(self, query):
        deadline = time.time() + 20
        while time.time() < deadline:
            pid = self.pg.admin(f"SELECT pid FROM pg_stat_activity WHERE query = '{query}' AND state = 'active'")
            if pid:
                return int(pid)
            time.sleep(0.1)
        self.fail(f"{query} never ran")

    def test_backend_terminated_mid_query(self):
        proc = subprocess.Popen(["psql", self.proxy.url(), "-X", "-c", "SELECT pg_sleep(30)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pid = self.wait_active("SELECT pg_sleep(30)")
        self.pg.admin(f"SELECT pg_terminate_backend({pid})")
        out, err = proc.communicate(timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("terminating connection due to administrator command", err)
        r = psql(self.proxy.url(), "-Atc", "SELECT 'next one works'")
        self.assertEqual(r.stdout.strip(), "next one works", r.stderr)

    def test_backend_killed_mid_query(self):
        proc = subprocess.Popen(["psql", self.proxy.url(), "-X", "-c", "SELECT pg_sleep(31)"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        pid = self.wait_active("SELECT pg_sleep(31)")
        import os
        os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=20)
        self.assertNotEqual(proc.returncode, 0)
        # The killed backend said nothing; lms tells the client what happened.
        self.assertIn("lms: lost the connection to the source database", err)
        deadline = time.time() + 30  # the postmaster restarts after a crash
        while time.time() < deadline:
            r = psql(self.proxy.url(), "-Atc", "SELECT 'recovered'")
            if r.returncode == 0:
                break
            time.sleep(0.5)
        self.assertEqual(r.stdout.strip(), "recovered", r.stderr)


class SourceDownAtStart(LmsTestCase):
    def test_clear_error_then_serves_when_the_source_is_back(self):
        self.pg.stop()
        try:
            proxy = self.start_lms()
            self.assertIn("is not answering yet", proxy.log())
            r = psql(proxy.url(), "-c", "SELECT 1")
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"lms: could not connect to the source database at 127.0.0.1:{self.pg.port}/{DATABASE} "
                          f"as {USER}: connection refused", r.stderr)
            status, text = proxy.http_get("/readyz")
            self.assertEqual(status, 503)
            self.assertIn("not ready", text)
        finally:
            self.pg.start()
        r = psql(proxy.url(), "-Atc", "SELECT 'back'")
        self.assertEqual(r.stdout.strip(), "back", r.stderr)
        self.assertEqual(proxy.http_get("/readyz")[0], 200)


if __name__ == "__main__":
    unittest.main()
