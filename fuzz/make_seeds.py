#!/usr/bin/env python3
"""Writes seed corpora for the fuzz targets into DIR/<target>/: well-formed PostgreSQL protocol
exchanges as a real client and server produce them (startup, SCRAM, extended query, COPY, errors),
so the fuzzer starts from deep inside the protocol instead of at random bytes."""
import os
import struct
import sys


def msg(t, body=b""):
    return t + struct.pack("!I", len(body) + 4) + body


def cstr(s):
    return s.encode() + b"\0"


def startup(**params):
    body = struct.pack("!I", 196608) + b"".join(cstr(k) + cstr(v) for k, v in params.items()) + b"\0"
    return struct.pack("!I", len(body) + 4) + body


CLIENT = [
    msg(b"Q", cstr("select 1")),
    msg(b"P", cstr("s1") + cstr("select $1::int") + struct.pack("!H", 0)) +
    msg(b"B", cstr("") + cstr("s1") + struct.pack("!HHIH", 0, 1, 1, 0)[:-2] + b"7" + struct.pack("!H", 0)) +
    msg(b"D", b"P" + cstr("")) + msg(b"E", cstr("") + struct.pack("!I", 0)) + msg(b"S"),
    msg(b"Q", cstr("copy t from stdin")) + msg(b"d", b"1\tone\n") + msg(b"c"),
    msg(b"F", struct.pack("!IHHIH", 1598, 0, 0, 0, 0)),
    msg(b"H") + msg(b"X"),
]
SERVER = [
    msg(b"1") + msg(b"2") + msg(b"T", struct.pack("!H", 1) + cstr("x") + struct.pack("!IHIhih", 0, 0, 23, 4, -1, 0)) +
    msg(b"D", struct.pack("!HI", 1, 1) + b"7") + msg(b"C", cstr("SELECT 1")) + msg(b"Z", b"I"),
    msg(b"E", b"SERROR\0C42P01\0Mrelation does not exist\0\0") + msg(b"Z", b"E"),
    msg(b"G", b"\0\0\0") + msg(b"Z", b"T"),
    msg(b"A", struct.pack("!I", 42) + cstr("chan") + cstr("payload")) + msg(b"N", b"SNOTICE\0Mhi\0\0"),
]
FRONT = [
    bytes([3, 7]) + struct.pack("!II", 8, 80877103) + startup(user="alice", database="shop"),
    bytes([3, 64]) + startup(user="alice") + msg(b"p", cstr("SCRAM-SHA-256") + struct.pack("!I", 32) +
                                                  b"n,,n=,r=rOprNGfwEbeRWgbNEkqO12345"),
    bytes([2, 3]) + startup(user="alice") + msg(b"p", cstr("md5" + "0" * 32)),
    bytes([1, 1]) + startup(user="alice", application_name="x") + msg(b"p", cstr("pw")),
    bytes([0, 9]) + struct.pack("!IIII", 16, 80877102, 1, 2),
]
BACK = [
    msg(b"R", struct.pack("!I", 10) + cstr("SCRAM-SHA-256") + b"\0") +
    msg(b"R", struct.pack("!I", 11) + b"r=abc,s=c2FsdA==,i=16") + msg(b"R", struct.pack("!I", 12) + b"v=AAAA"),
    msg(b"R", struct.pack("!I", 5) + b"salt") + msg(b"R", struct.pack("!I", 0)) +
    msg(b"S", cstr("server_version") + cstr("15.0")) + msg(b"K", struct.pack("!II", 1, 2)) + msg(b"Z", b"I"),
    msg(b"E", b"SFATAL\0C28P01\0Mpassword authentication failed\0\0"),
]
SCRAM = [
    b"n,,n=,r=clientnonce\nc=biws,r=clientnonceservernonce,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
    b"r=clientnonceX,s=c2FsdA==,i=16\nv=AAAA",
    b"y,a=x,n=u,r=n\ne=invalid-proof",
    b"r=clientnonceX,s=cA==,i=130130885\ne=@",  # once a timeout: 130 million PBKDF2 rounds
]
CONNSTR = [
    b"postgresql://u:p%40w@h:5432/db?sslmode=verify-full?sslrootcert=/ca.crt&application_name=a",
    b"host=127.0.0.1 port=5 user=x password='a b' dbname=d",
    b"postgres://[::1]:26257/defaultdb?options=-c%20x%3Dy",
]


def packet(payload, seq=0):
    return struct.pack("<I", len(payload))[:3] + bytes([seq]) + payload


def lenenc_str(b):
    return bytes([len(b)]) + b


# MySQL: a client's commands and the server's answers, each seed a framer script: a byte per
# message choosing its direction (0 client, 1 server) before it.
COLUMN = packet(lenenc_str(b"def") + b"\0\0\0" + lenenc_str(b"x") + b"\0\x0c\x21\0\x0b\0\0\0\x03\0\0\0\0\0")
EOF_PKT = packet(b"\xfe\0\0\x02\0")
MYSQL_SCRIPTS = [
    [(0, packet(b"\x03SELECT 1")), (1, packet(b"\x01")), (1, COLUMN), (1, EOF_PKT), (1, packet(b"\x011")),
     (1, EOF_PKT)],
    [(0, packet(b"\x16SELECT ?")), (1, packet(b"\x00\x01\0\0\0\x01\0\x01\0\0\0\0")), (1, COLUMN),
     (1, EOF_PKT), (1, COLUMN), (1, EOF_PKT), (0, packet(b"\x19\x01\0\0\0")), (0, packet(b"\x0e")),
     (1, packet(b"\0\0\0\x02\0\0\0"))],
    [(0, packet(b"\x03SELECT * FROM missing")), (1, packet(b"\xff\x7a\x04#42S02no such table"))],
    [(0, packet(b"\x09")), (1, packet(b"Uptime: 1")), (0, packet(b"\x01"))],
]
MYSQL_GREETING = packet(b"\x0a8.0.36\0\x01\0\0\0abcdefgh\0\xff\xf7\x2d\x02\0\xff\x81\x15" + b"\0" * 10 +
                        b"ijklmnopqrst\0mysql_native_password\0")
MYSQL_RESPONSE = packet(struct.pack("<IIB", 0x0aa285, 16777216, 45) + b"\0" * 23 + b"app\0" + bytes([20]) +
                        b"\x01" * 20 + b"appdb\0caching_sha2_password\0", 1)
# TLS: a greeting that offers CLIENT_SSL, and a client's SSLRequest followed by its response.
MYSQL_TLS_GREETING = packet(b"\x0a8.0.36\0\x01\0\0\0abcdefgh\0\xff\xff\x2d\x02\0\xff\x81\x15" + b"\0" * 10 +
                            b"ijklmnopqrst\0caching_sha2_password\0")
MYSQL_TLS_RESPONSE = (packet(struct.pack("<IIB", 0x0aaa85, 16777216, 45) + b"\0" * 23, 1) +
                      packet(struct.pack("<IIB", 0x0aaa85, 16777216, 45) + b"\0" * 23 + b"app\0" + bytes([20]) +
                             b"\x01" * 20 + b"appdb\0caching_sha2_password\0", 2))


# A PostgreSQL answer: one int4 and one bytea column, a row, its completion, ReadyForQuery.
PG_ROWDESC = msg(b"T", b"\0\2" + cstr("n") + b"\0" * 6 + b"\0\0\0\x17\0\x04\xff\xff\xff\xff\0\0" +
                 cstr("b") + b"\0" * 6 + b"\0\0\0\x11\xff\xff\xff\xff\xff\xff\0\0")
PG_ROW = msg(b"D", b"\0\2\0\0\0\x017\0\0\0\x06\\x00ff")
PG_ANSWER = PG_ROWDESC + PG_ROW + msg(b"D", b"\0\2\xff\xff\xff\xff\xff\xff\xff\xff") + msg(b"C", cstr("SELECT 2")) + \
    msg(b"C", cstr("INSERT 0 3")) + msg(b"Z", b"T")
PG_ERROR = msg(b"E", b"SERROR\0C23505\0Mduplicate key\0\0") + msg(b"Z", b"E")


def pool_event(control, message):
    """One event of fuzz_pooling: what (control & 7), which client (bit 3) and connection (bit 4)."""
    return bytes([control, len(message)]) + message


POOL_SESSION = b"".join([
    pool_event(4, b""),
    pool_event(0, msg(b"P", cstr("s1") + cstr("SELECT $1") + b"\0\0")), pool_event(0, msg(b"S")),
    pool_event(2, msg(b"1")), pool_event(2, msg(b"Z", b"I")),
    pool_event(0x10, msg(b"B", cstr("") + cstr("s1") + b"\0" * 6)), pool_event(0x10, msg(b"E", cstr("") + b"\0" * 4)),
    pool_event(0x10, msg(b"S")), pool_event(0x12, msg(b"1")), pool_event(0x12, msg(b"E", b"SERROR\0\0")),
    pool_event(0x12, msg(b"Z", b"I")),
    pool_event(8, msg(b"Q", cstr("PREPARE q AS SELECT 1; LISTEN x"))), pool_event(8, msg(b"Q", cstr("EXECUTE q"))),
    pool_event(8, msg(b"Q", cstr("SET work_mem = '1MB'"))), pool_event(5, b""), pool_event(3, msg(b"C", cstr("SET"))),
    pool_event(6, msg(b"P", cstr("s2") + cstr("SELECT 2") + b"\0\0") + msg(b"S")),
    pool_event(7, msg(b"S", cstr("application_name") + cstr("x"))),
])
# A BEGIN lms answers (control bit 6), sent with the first statement at the next lend.
POOL_DEFERRED_BEGIN = b"".join([
    pool_event(0x46, msg(b"Q", cstr("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY"))), pool_event(4, b""),
    pool_event(0, msg(b"Q", cstr("SELECT 1"))), pool_event(2, msg(b"C", cstr("BEGIN"))), pool_event(2, msg(b"Z", b"T")),
    pool_event(0x46, msg(b"P", cstr("") + cstr("BEGIN") + b"\0\0") + msg(b"B", cstr("") + cstr("") + b"\0" * 6) +
               msg(b"E", cstr("") + b"\0" * 4) + msg(b"S")),
    pool_event(0x46, msg(b"Q", cstr("ROLLBACK"))),
])

# The unnamed statement kept by name on connection 0 (pool-cache-unnamed), run again there, then
# on connection 1 (which does not keep it), a Bind of it failing on 0.
POOL_UNNAMED_CACHE = b"".join([
    pool_event(4, b""),
    pool_event(0, msg(b"P", cstr("") + cstr("SELECT $1") + b"\0\0")), pool_event(0, msg(b"B", cstr("") + cstr("") + b"\0" * 6)),
    pool_event(0, msg(b"D", b"S" + cstr(""))), pool_event(0, msg(b"S")),
    pool_event(2, msg(b"1")), pool_event(2, msg(b"2")), pool_event(2, msg(b"t")), pool_event(2, msg(b"Z", b"I")),
    pool_event(0, msg(b"P", cstr("") + cstr("SELECT $1") + b"\0\0")), pool_event(0, msg(b"B", cstr("") + cstr("") + b"\0" * 6)),
    pool_event(0, msg(b"S")), pool_event(2, msg(b"1")), pool_event(2, msg(b"E", b"SERROR\0\0")), pool_event(2, msg(b"Z", b"I")),
    pool_event(0x10, msg(b"B", cstr("") + cstr("") + b"\0" * 6)), pool_event(0x10, msg(b"S")),
])


def main():
    out = sys.argv[1]
    corpora = {
        "fuzz_frame": [bytes([n % 256]) + c for n, c in enumerate(CLIENT + SERVER)],
        "fuzz_front_handshake": FRONT,
        "fuzz_back_handshake": BACK,
        "fuzz_scram": SCRAM,
        "fuzz_connection_string": CONNSTR,
        "fuzz_inspect": [b"\0" + c for c in CLIENT] + [b"\1" + s for s in SERVER] + [
            b"\0" + msg(b"Q", cstr("SET search_path = a; -- x")),
            b"\0" + msg(b"Q", cstr("/* c */ DEALLOCATE PREPARE p1")),
            b"\0" + msg(b"Q", cstr("PREPARE q (int) AS SELECT $1; SELECT 'x;y'")),
            b"\0" + msg(b"P", cstr("P0_1") + cstr("SELECT 1") + b"\0\0"),
            b"\0" + msg(b"C", b"S" + cstr("P0_1")),
        ],
        "fuzz_summary": [b"\3" + s for s in SERVER] + [b"\0" + b"".join(SERVER),
                         b"\5SELECT 'a', $$b$$, 1.5e3 /* c */ FROM \"t\" -- d"],
        "fuzz_mysql_framer": [bytes([n % 2]) + b"".join(bytes([d]) + p for d, p in script)
                              for n, script in enumerate(MYSQL_SCRIPTS)],
        "fuzz_mysql_handshake": [b"\0" + MYSQL_RESPONSE, b"\2" + MYSQL_RESPONSE, b"\1" + MYSQL_GREETING,
                                 b"\1" + MYSQL_GREETING + packet(b"\x01\x04", 2) + packet(b"\x01-----BEGIN", 4),
                                 b"\1" + MYSQL_GREETING + packet(b"\xfecaching_sha2_password\0" + b"n" * 20 + b"\0", 2),
                                 b"\0" + MYSQL_TLS_RESPONSE, b"\4" + MYSQL_TLS_RESPONSE,
                                 b"\1" + MYSQL_TLS_GREETING + packet(b"\x01\x04", 3) + packet(b"\0", 5)],
        # Mode byte (bit 0: answers, bit 1: deprecate-EOF), command choice, then the server's bytes.
        "fuzz_pooling": [POOL_SESSION, POOL_SESSION[:40], POOL_DEFERRED_BEGIN, POOL_UNNAMED_CACHE,
                         pool_event(0, msg(b"Q", cstr("DISCARD ALL")))],
        "fuzz_translation": [
            b"\0\0" + packet(b"\x03SELECT 1") + packet(b"\x16SELECT ?") +
            packet(b"\x17\x01\0\0\0\0\x01\0\0\0\0\x01\x08\0" + b"\x05" + b"\0" * 7) + packet(b"\x19\x01\0\0\0"),
            b"\3\0" + PG_ANSWER + PG_ANSWER, b"\1\0" + PG_ERROR,
            b"\1\1" + msg(b"1") + msg(b"t", b"\0\2\0\0\0\x17\0\0\0\x19") + PG_ROWDESC + msg(b"Z", b"I"),
            b"\3\2" + msg(b"1") + msg(b"2") + PG_ROWDESC + PG_ROW + msg(b"C", cstr("SELECT 1")) + msg(b"Z", b"I"),
        ],
        "fuzz_config": [
            b"\0--source\0postgresql://app:pw@127.0.0.1:5432/appdb?sslmode=verify-full\0--target\0"
            b"postgresql://app@127.0.0.1:26257/appdb\0--shadow-mode\0sync\0--workers\0" + b"2\0--listen\0[::1]:9043",
            b"\0--source-dialect=mysql\0--source\0app:pw@tcp(127.0.0.1:3306)/appdb\0--client-tls\0require",
            b"\1source = \"postgresql://app@127.0.0.1:5432/appdb\"\nshadow-mode = \"async\"\nworkers = 4\n"
            b"allow-tls-mode-disable = true\nlisten = \"127.0.0.1:9043\"\nbuffer-limit = 1048576\n",
            b"\1[table]\nkey = [1, 2]\nshutdown-grace = -5\n",
            b"\2{\"INIT_SOURCE\": \"postgresql://app:pw@db:5432/appdb\", \"INIT_TARGET\": \"postgresql://crdb:26257/x\"}",
            b"\2{\"INIT_SOURCE\": 5, \"other\": [null, true]}"],
        "fuzz_control_json": [
            b'{"id": 3, "begin_timeout_ms": 1000, "on_begin_timeout": "abort"}',
            b'{"id": 1, "on_begin_timeout": "end-sessions"}',
            b'{"version": "0.1.0", "sql_address": "127.0.0.1:9043", "shadow_mode": "sync", "source_dialect": "PostgreSQL",'
            b' "open_connections": 3, "transitioning": false, "cutover": {"id": 2, "status": "Paused"}}',
            b'[{"user": "app", "database": "appdb", "state": "idle", "last_query": "SELECT ?",'
            b' "shadow": {"sent": 1, "dropped": 0, "failed": 0}}]',
            b'{"id": 18446744073709551615, "status": "CommitCompleted", "source_of_truth_role": "target",'
            b' "paused_at": "2026-11-22T15:00:00Z", "error": ""}'],
        "fuzz_mysql_connection_string": [
            b"mysql://u:p%40w@h:3306/db?sslmode=verify-full?sslrootcert=/ca.crt&sslcert=c&sslkey=k",
            b"app:secret@tcp(10.0.0.5:3306)/shop?tls=skip-verify", b"app:pw@(lms.ns.svc:9043)/db",
            b"SELECT 'a\\'b', \"c\", 0x1F, X'ab', 1.5e3 # c\n/* d */ FROM `t` -- e"],
    }
    for target, seeds in corpora.items():
        d = os.path.join(out, target)
        os.makedirs(d, exist_ok=True)
        for i, seed in enumerate(seeds):
            with open(os.path.join(d, f"seed{i}"), "wb") as f:
                f.write(seed)


if __name__ == "__main__":
    main()
