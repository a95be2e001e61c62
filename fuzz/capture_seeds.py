#!/usr/bin/env python3
"""Records real traffic and turns it into seed corpora for the fuzz targets, in fuzz/captures/.

PostgreSQL 15 and MariaDB servers are started in temporary directories; real clients (psql,
pgbench, the mariadb client, sysbench) talk to them through a recording relay on loopback; each
connection's bytes, in the order they crossed, are cut into what each fuzz target reads (a
handshake, a message, a stream after the handshake, a MySQL packet script). The seeds complement
make_seeds.py's hand-built ones with what clients and servers really send: psql's startup
parameters, SCRAM exchanges, pgbench's extended-protocol batches, COPY, NOTICEs, MariaDB's
greetings and result sets, sysbench's binary-protocol statements.

Run it by hand after a protocol change (it needs the servers and clients that setup.sh installs);
the seeds it writes are committed. Usage: fuzz/capture_seeds.py [OUT_DIR]
"""
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
import lmstest  # noqa: E402
import mysql_procedures  # noqa: E402

MAX_SEED = 16 * 1024   # larger seeds are cut: they slow every fuzzing run and add little
MAX_MESSAGES = 40      # single-message seeds taken from one connection


class RecordingRelay:
    """Listens on a free loopback port and relays each connection to `port`, recording every read
    as (direction, bytes): 0 client to server, 1 server to client."""

    def __init__(self, port):
        self.port = port
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.connections = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    @property
    def address(self):
        return self.listener.getsockname()[1]

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            record = []
            with self.lock:
                self.connections.append(record)
            for src, dst, direction in ((client, server, 0), (server, client, 1)):
                threading.Thread(target=self.pump, args=(src, dst, direction, record), daemon=True).start()

    def pump(self, src, dst, direction, record):
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                for s in (src, dst):
                    try:
                        s.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                return
            with self.lock:
                record.append((direction, data))
            dst.sendall(data)

    def take(self):
        with self.lock:
            taken, self.connections = self.connections, []
        return [r for r in taken if r]


def stream(record, direction):
    return b"".join(data for d, data in record if d == direction)


def pg_messages(data, typed=True):
    """Splits a PostgreSQL stream into whole messages (the untyped startup packet first, if asked)."""
    out = []
    at = 0
    if not typed and len(data) >= 4:
        n = struct.unpack("!I", data[:4])[0]
        out.append(data[:n])
        at = n
    while at + 5 <= len(data):
        n = struct.unpack("!I", data[at + 1:at + 5])[0]
        out.append(data[at:at + 1 + n])
        at += 1 + n
    return out


def pg_seeds(record, seeds):
    client = pg_messages(stream(record, 0), typed=False)
    server = pg_messages(stream(record, 1))
    # The handshake ends with the server's first ReadyForQuery; the client's with its last
    # password message before that.
    ready = next((i for i, m in enumerate(server) if m[:1] == b"Z"), len(server) - 1)
    login_client = [client[0]] + [m for m in client[1:] if m[:1] == b"p"]
    after_client = [m for m in client[1:] if m[:1] != b"p"]
    after_server = server[ready + 1:]
    seeds["fuzz_front_handshake"].append(bytes([3, 63]) + b"".join(login_client))
    seeds["fuzz_back_handshake"].append(b"".join(server[:ready + 1]))
    if after_client:
        seeds["fuzz_frame"].append(bytes([7]) + b"".join(after_client)[:MAX_SEED])
    if after_server:
        seeds["fuzz_frame"].append(bytes([13]) + b"".join(after_server)[:MAX_SEED])
    for m in after_client[:MAX_MESSAGES]:
        seeds["fuzz_inspect"].append(b"\0" + m[:MAX_SEED])
    for m in [m for m in after_server if m[:1] in b"ETCNSAGHd"][:MAX_MESSAGES]:
        seeds["fuzz_inspect"].append(b"\1" + m[:MAX_SEED])
    # Each answer (up to its ReadyForQuery) is one summarizer seed.
    answer = b""
    for m in after_server:
        answer += m
        if m[:1] == b"Z":
            seeds["fuzz_summary"].append(bytes([len(seeds["fuzz_summary"]) % 17]) + answer[:MAX_SEED])
            answer = b""


def mysql_packets(record):
    """(direction, packet) in the order they crossed, each direction's stream cut at packet bounds."""
    pending = {0: b"", 1: b""}
    out = []
    for direction, data in record:
        buf = pending[direction] + data
        at = 0
        while at + 4 <= len(buf):
            n = int.from_bytes(buf[at:at + 3], "little")
            if at + 4 + n > len(buf):
                break
            out.append((direction, buf[at:at + 4 + n]))
            at += 4 + n
        pending[direction] = buf[at:]
    return out


def mysql_seeds(record, seeds):
    packets = mysql_packets(record)
    # The handshake ends with the server's first OK (or an ERR, when the login fails).
    end = next((i for i, (d, p) in enumerate(packets) if d == 1 and p[4:5] in (b"\x00", b"\xff") and i > 0),
               len(packets) - 1)
    handshake, after = packets[:end + 1], packets[end + 1:]
    seeds["fuzz_mysql_handshake"].append(b"\0" + b"".join(p for d, p in handshake if d == 0))
    seeds["fuzz_mysql_handshake"].append(b"\1" + b"".join(p for d, p in handshake if d == 1))
    greeting = next((p for d, p in handshake if d == 1), b"")
    response = next((p for d, p in handshake if d == 0), b"")
    deprecate_eof = 1 << 24
    server_caps = client_caps = 0
    if len(greeting) > 4 and greeting[4] == 0x0a:
        rest = greeting[greeting.index(b"\0", 5) + 1:]
        server_caps = int.from_bytes(rest[13:15], "little") | int.from_bytes(rest[18:20], "little") << 16
    if len(response) >= 8:
        client_caps = int.from_bytes(response[4:8], "little")
    caps = 1 if server_caps & client_caps & deprecate_eof else 0
    script = bytes([caps])
    for d, p in after:
        if len(script) + 1 + len(p) > MAX_SEED:
            break
        script += bytes([d]) + p
    if after:
        seeds["fuzz_mysql_framer"].append(script)


def run(args, **kw):
    # Output is not looked at (a failing client is traffic too), only the bytes that crossed.
    return subprocess.run(args, capture_output=True, text=True, errors="replace", timeout=120, **kw)


def capture_postgres(seeds):
    pg = lmstest.PostgresServer()
    relay = RecordingRelay(pg.port)
    url = f"postgresql://{lmstest.USER}:{lmstest.PASSWORD}@127.0.0.1:{relay.address}/{lmstest.DATABASE}?sslmode=disable"
    work = tempfile.mkdtemp(prefix="lms-capture-")
    try:
        csv = os.path.join(work, "t.csv")
        script = f"""
CREATE TABLE t (id int PRIMARY KEY, name text, price numeric(10,2), at timestamptz DEFAULT now(), doc jsonb);
INSERT INTO t SELECT g, md5(g::text), g * 1.5, now(), jsonb_build_object('g', g) FROM generate_series(1, 200) g;
SELECT * FROM t WHERE id < 20 ORDER BY id;
BEGIN; UPDATE t SET price = price + 1 WHERE id = 3; SAVEPOINT s; SELECT 1/0; ROLLBACK TO s; COMMIT;
SELECT * FROM missing_table;
SET search_path = public; SET application_name = 'capture';
PREPARE q (int) AS SELECT name FROM t WHERE id = $1; EXECUTE q(7); DEALLOCATE q;
\\copy t TO '{csv}' WITH (FORMAT csv)
TRUNCATE t;
\\copy t FROM '{csv}' WITH (FORMAT csv)
DO $$ BEGIN RAISE NOTICE 'notice %', 1; RAISE WARNING 'warning'; END $$;
LISTEN chan; NOTIFY chan, 'payload';
SELECT NULL::int, ''::text, true, 1e300::float8, '\\x00ff'::bytea, ARRAY[1,2], '2026-11-22'::date;
"""
        run(["psql", url, "-X", "-v", "ON_ERROR_STOP=0"], input=script)
        env = dict(os.environ, PGPASSWORD=lmstest.PASSWORD)
        base = ["pgbench", "-h", "127.0.0.1", "-p", str(relay.address), "-U", lmstest.USER]
        run([*base, "-i", "-s", "1", "-q", lmstest.DATABASE], env=env)
        for mode in ("prepared", "extended", "simple"):
            run([*base, "-n", "-M", mode, "-t", "10", "-c", "1", lmstest.DATABASE], env=env)
        run(["psql", url.replace(lmstest.PASSWORD, "wrong"), "-X", "-c", "SELECT 1"])
        for record in relay.take():
            pg_seeds(record, seeds)
    finally:
        relay.listener.close()
        pg.destroy()
        shutil.rmtree(work, ignore_errors=True)


def capture_mysql(seeds):
    db = lmstest.MariaDbServer()
    relay = RecordingRelay(db.port)
    try:
        client = ["mariadb", "--no-defaults", "-h", "127.0.0.1", "-P", str(relay.address), "-u", lmstest.USER,
                  f"-p{lmstest.PASSWORD}", lmstest.DATABASE]
        script = """
CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), at DATETIME(6), flag BOOL, doc JSON, b BLOB);
INSERT INTO t VALUES (1, 'one', 1.50, NOW(6), TRUE, '{"a": 1}', X'00ff'), (2, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM t; SELECT COUNT(*) FROM t;
SELECT * FROM missing_table;
START TRANSACTION; UPDATE t SET price = price + 1 WHERE id = 1; COMMIT;
SHOW VARIABLES LIKE 'version%';
SELECT 1; SELECT 2;
SELECT REPEAT('x', 70000);
"""
        run(client, input=script)
        run([*client[:-1], "-e", "SELECT 1 AS a; SELECT 2 AS b", lmstest.DATABASE])
        sysbench = ["sysbench", "--db-driver=mysql", "--mysql-host=127.0.0.1", f"--mysql-port={relay.address}",
                    f"--mysql-user={lmstest.USER}", f"--mysql-password={lmstest.PASSWORD}",
                    f"--mysql-db={lmstest.DATABASE}", "--tables=1", "--table-size=100", "--threads=1"]
        run(["sysbench", "oltp_read_write", *sysbench[1:], "prepare"])
        for workload in ("oltp_point_select", "oltp_read_write"):
            run(["sysbench", workload, *sysbench[1:], "--events=5", "--time=0", "run"])
        run([*client[:6], "-pwrong", lmstest.DATABASE, "-e", "SELECT 1"])
        # Stored programs and multi-statements: the answers a framer finds hardest (more-results,
        # errors after rows, a procedure's cursor flag, OUT parameters), text and binary.
        run(["mariadb", "--no-defaults", "-uroot", f"--socket={db.socket}", lmstest.DATABASE],
            input=mysql_procedures.SETUP)
        for _, case in mysql_procedures.TEXT_CASES:
            run([*client, "--force"], input=case)
        stmt_client = os.path.join(lmstest.BUILD_DIR, "tests", "mysql_stmt_client")
        for _, sql, params, cursor in mysql_procedures.BINARY_CASES:
            env = dict(os.environ, LMS_STMT_CURSOR="1") if cursor else None
            run([stmt_client, str(relay.address), lmstest.USER, lmstest.PASSWORD, lmstest.DATABASE, sql, *params],
                input="run\n", env=env)
        for record in relay.take():
            mysql_seeds(record, seeds)
    finally:
        relay.listener.close()
        db.destroy()


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "captures")
    targets = ["fuzz_frame", "fuzz_front_handshake", "fuzz_back_handshake", "fuzz_inspect", "fuzz_summary",
               "fuzz_mysql_framer", "fuzz_mysql_handshake"]
    seeds = {t: [] for t in targets}
    capture_postgres(seeds)
    capture_mysql(seeds)
    shutil.rmtree(out, ignore_errors=True)
    for target, found in seeds.items():
        os.makedirs(os.path.join(out, target), exist_ok=True)
        # Identical seeds (the same handshake twice) are kept once.
        for i, seed in enumerate(dict.fromkeys(found)):
            with open(os.path.join(out, target, f"capture{i:03}"), "wb") as f:
                f.write(seed)
        print(f"{target}: {len(set(found))} seeds")


if __name__ == "__main__":
    main()
