/*
 * LMS control ABI, version 1.
 *
 * One proxy's control plane: its status, its client connections, and the three steps of a
 * consistent cutover (begin, commit, abort) with the metadata each step records. The proxy core
 * implements it in-process and serves it as JSON on its HTTP port (9044); liblms-control implements
 * the same calls over the network, and lms-orchestrator and lms-cli reach proxies only through it.
 *
 * Conventions (LevelDB's C API):
 *  - Opaque handles; every *_open / call that returns an object has a matching *_close / *_destroy.
 *    Objects returned to the caller are owned by the caller; the strings inside an object live as
 *    long as the object.
 *  - A call that can fail takes `char** errptr`. It must point at NULL (or at an earlier error,
 *    which the call frees). On failure *errptr receives a NUL-terminated message allocated with
 *    malloc, to be freed with lms_control_free, and the call returns NULL / 0. On success *errptr is
 *    left untouched.
 *  - Structs begin with `struct_size` and grow only at their end (see plugin.h).
 *  - Times are nanoseconds since the Unix epoch, UTC; 0 means "not yet".
 *  - A handle may be used from one thread at a time; distinct handles are independent.
 *
 * Version history:
 *   1.0  status, connections, cutover begin / commit / abort / get, replication marker.
 *   1.1  lms_control_options.tls_server_name: reach a proxy by its IP address, check its
 *        certificate against a name (a Kubernetes headless service's pods).
 *   1.2  lms_control_shadow_report and lms_control_metrics: what a console shows of each proxy
 *        (its compatibility report, its counters and latency histograms).
 *   1.3  lms_control_replication_prepare: the marker table made on both databases where missing,
 *        for a preflight to tell the operator before any pause.
 *   1.4  a preflight's view of what would stall a cutover or be lost at it:
 *        lms_control_open_transactions (transactions open on the source of truth longer than a
 *        bound) and lms_control_connection.held_state (what a session holds that no cutover
 *        carries); after it, the old database watched and fenced: lms_control_other_rows_written
 *        and lms_control_fence_other; lms_control_cutover's record of what an attempt cost clients
 *        (longest stall, queued requests and logins, sessions ended, statements replayed).
 *   1.5  what ties the database's view to the proxy's: lms_control_connection.database_address (the
 *        session's own address on its database connection, which the database lists as the
 *        client); lms_control_get_replication_position (the source of truth's WAL LSN or binlog
 *        coordinates, and each replication slot's lag in bytes); lms_control_check_other_tables
 *        (whether the other database has the tables the application uses);
 *        lms_control_check_other_logins (whether it holds each user's verifier).
 */
#ifndef LMS_CONTROL_H
#define LMS_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LMS_CONTROL_ABI_MAJOR 1u
#define LMS_CONTROL_ABI_MINOR 5u

#if defined(_WIN32)
#define LMS_CONTROL_EXPORT __declspec(dllexport)
#else
#define LMS_CONTROL_EXPORT __attribute__((visibility("default")))
#endif

typedef struct lms_control lms_control;

typedef struct lms_control_options {
  uint32_t struct_size;
  uint32_t timeout_ms;         /* per request; 0: 5000 */
  const char* tls_ca_cert;     /* NULL: no TLS unless the address says https:// */
  const char* tls_client_cert; /* presented when the proxy asks for a client certificate */
  const char* tls_client_key;
  /* 1.1: when the address's host is an IP address, the name its HTTPS certificate must carry
   * (and the SNI sent); NULL: the IP address itself. */
  const char* tls_server_name;
} lms_control_options;

/* Cutover statuses, as they appear in `status` strings. */
#define LMS_CUTOVER_BEGAN "Began"               /* pausing: waiting for busy sessions */
#define LMS_CUTOVER_PAUSED "TrafficPaused"      /* every session idle, requests queued */
#define LMS_CUTOVER_COMMITTED "CommitCompleted" /* the source of truth switched, traffic resumed */
#define LMS_CUTOVER_ABORTED "Aborted"           /* traffic resumed on the old source of truth */
#define LMS_CUTOVER_ERROR "Error"               /* the attempt failed; see `error` */

typedef struct lms_control_cutover {
  uint32_t struct_size;
  uint64_t id;                      /* the attempt's ID, chosen by whoever began it; 0: none yet */
  const char* status;               /* one of LMS_CUTOVER_*, or "" when there was no attempt */
  const char* source_of_truth;      /* the database serving now, by dialect: "PostgreSQL", "Cockroach" */
  const char* source_of_truth_role; /* "source" or "target", as the proxy's configuration names them */
  int64_t trigger_time_ns;
  int64_t paused_time_ns;
  int64_t commit_time_ns; /* when it committed or aborted */
  uint32_t busy_sessions; /* while Began: sessions still inside a transaction or a query */
  const char* error;      /* "" when none */
  /* 1.4: what the attempt cost this proxy's clients. */
  uint64_t longest_stall_ns; /* from the first request or login held to the release (so far, while paused) */
  uint32_t requests_queued;  /* requests that waited for the pause to end */
  uint32_t connections_queued;  /* clients that logged in during the pause and waited */
  uint32_t sessions_ended;      /* busy sessions the begin-timeout ended */
  uint32_t statements_replayed; /* settings and prepared statements carried to the new database */
  uint32_t statements_failed;   /* of those, failed there */
} lms_control_cutover;

typedef struct lms_control_status {
  uint32_t struct_size;
  const char* version;
  const char* sql_address; /* where clients connect, host:port */
  const char* shadow_mode;
  const char* source_dialect;
  const char* target_dialect;
  const char* source_address; /* host:port, never credentials */
  const char* target_address;
  const char* source_of_truth;
  const char* source_of_truth_role;
  uint8_t transitioning; /* a cutover has begun and is neither committed nor aborted */
  uint32_t open_connections;
  const char* error; /* what keeps the proxy from serving, "" when nothing */
  lms_control_cutover cutover;
} lms_control_status;

typedef struct lms_control_connection {
  uint32_t struct_size;
  const char* remote_address; /* the proxy's SQL address */
  const char* source_address; /* the client's address */
  const char* user;
  const char* database;
  const char* source_of_truth; /* the database this session is served by */
  const char* state;           /* "connecting", "idle", "active", "in transaction", "paused", "switching" */
  const char* last_query;      /* at most 1024 bytes */
  const char* error;           /* the last error the session's client received, "" when none */
  /* 1.4: the kinds of state the session holds that a cutover cannot carry to the other database,
   * comma-separated ("temporary table, LISTEN"); "" when none. */
  const char* held_state;
  /* 1.5: the proxy's own address on the session's connection to the source of truth, host:port, as
   * the database lists its clients (pg_stat_activity, the process list); "" while there is none. */
  const char* database_address;
} lms_control_connection;

typedef struct lms_control_connections {
  uint32_t struct_size;
  size_t count;
  const lms_control_connection* items;
} lms_control_connections;

/* 1.4: a transaction open on the proxy's source of truth, as the database reports it. */
typedef struct lms_control_transaction {
  uint32_t struct_size;
  const char* session; /* the database's name for the session: PostgreSQL's pid, MySQL's thread id */
  const char* client;  /* the client's host:port as the database sees it ("" for a local socket);
                          LMS's own sessions show the proxy's address */
  const char* user;
  const char* state;     /* the database's own word: "idle in transaction", "active", "RUNNING" */
  const char* statement; /* its last or current statement, as the database shows it */
  uint64_t age_ms;       /* since the transaction began */
} lms_control_transaction;

typedef struct lms_control_transactions {
  uint32_t struct_size;
  size_t count;
  const lms_control_transaction* items; /* oldest first */
} lms_control_transactions;

typedef enum lms_on_begin_timeout {
  LMS_ON_BEGIN_TIMEOUT_END_SESSIONS = 0, /* end the busy sessions with an error, then pause */
  LMS_ON_BEGIN_TIMEOUT_ABORT = 1         /* fail the attempt and resume traffic untouched */
} lms_on_begin_timeout;

typedef struct lms_control_begin_options {
  uint32_t struct_size;
  uint64_t id;               /* the attempt's ID; beginning the same ID again is a no-op */
  uint32_t begin_timeout_ms; /* 0: wait for busy sessions as long as it takes */
  uint32_t on_begin_timeout; /* lms_on_begin_timeout */
} lms_control_begin_options;

/* Opens a handle on the proxy whose HTTP control port is at `address` ("host", "host:port",
 * "http://host:port" or "https://host:port"; the port defaults to 9044). Nothing is sent until the
 * first call. */
LMS_CONTROL_EXPORT lms_control* lms_control_open(const char* address, const lms_control_options* options,
                                                 char** errptr);
LMS_CONTROL_EXPORT void lms_control_close(lms_control* control);
/* Frees an error string or any other memory this ABI documents as malloc'd. */
LMS_CONTROL_EXPORT void lms_control_free(void* ptr);

LMS_CONTROL_EXPORT lms_control_status* lms_control_get_status(lms_control* control, char** errptr);
LMS_CONTROL_EXPORT void lms_control_status_destroy(lms_control_status* status);

LMS_CONTROL_EXPORT lms_control_connections* lms_control_list_connections(lms_control* control, char** errptr);
LMS_CONTROL_EXPORT void lms_control_connections_destroy(lms_control_connections* connections);

/* Begins an attempt: new requests and connections queue, busy sessions finish. Returns at once,
 * with status Began (or TrafficPaused when nothing was busy); poll lms_control_cutover_get. */
LMS_CONTROL_EXPORT lms_control_cutover* lms_control_cutover_begin(lms_control* control,
                                                                  const lms_control_begin_options* options,
                                                                  char** errptr);
/* Only from TrafficPaused of attempt `id`: switches the source of truth and releases the queue.
 * Committing a committed attempt again returns it unchanged. */
LMS_CONTROL_EXPORT lms_control_cutover* lms_control_cutover_commit(lms_control* control, uint64_t id,
                                                                   char** errptr);
/* Before commit: releases the queue to the old source of truth. Aborting an attempt the proxy never
 * began, or one already aborted, succeeds; aborting a committed one fails. */
LMS_CONTROL_EXPORT lms_control_cutover* lms_control_cutover_abort(lms_control* control, uint64_t id,
                                                                  char** errptr);
/* The latest attempt (id 0 and status "" when there was none). */
LMS_CONTROL_EXPORT lms_control_cutover* lms_control_cutover_get(lms_control* control, char** errptr);
LMS_CONTROL_EXPORT void lms_control_cutover_destroy(lms_control_cutover* cutover);

/* Replication catch-up: writes a row with `token` into the marker table (lms_cutover_marker,
 * created if missing) on the proxy's source of truth, over a connection of the proxy's own (not
 * subject to the pause). Returns 1 on success. */
LMS_CONTROL_EXPORT uint8_t lms_control_replication_mark(lms_control* control, const char* token,
                                                        char** errptr);
/* Whether the other database already shows the row with `token`. Returns 1 when it does, 0 when
 * not yet (or on error, with *errptr set). */
LMS_CONTROL_EXPORT uint8_t lms_control_replication_seen(lms_control* control, const char* token,
                                                        char** errptr);
/* 1.3: makes sure the marker table exists on both databases, over the proxy's own connections,
 * creating it where it is missing; *created_on_truth and *created_on_other say where it was made
 * now (a table made on the other database is one the replication tool does not carry yet).
 * Returns 1 on success. */
LMS_CONTROL_EXPORT uint8_t lms_control_replication_prepare(lms_control* control, uint8_t* created_on_truth,
                                                           uint8_t* created_on_other, char** errptr);

/* 1.4: the transactions open on the proxy's source of truth for at least `min_age_ms` (at most 100,
 * oldest first), read over a connection of the proxy's own. A database that cannot tell, or an
 * account that may not see other sessions, is an error that says so. */
LMS_CONTROL_EXPORT lms_control_transactions* lms_control_open_transactions(lms_control* control,
                                                                           uint64_t min_age_ms,
                                                                           char** errptr);
LMS_CONTROL_EXPORT void lms_control_transactions_destroy(lms_control_transactions* transactions);

/* 1.4: the other database's (not the source of truth's) own running count of rows inserted,
 * updated and deleted, read over a connection of the proxy's own: after a cutover, what grows
 * there was written around LMS (or by LMS's own shadowing to it, or by a replication tool). The
 * database's statistics may lag its writes by seconds. Returns 1 on success. */
LMS_CONTROL_EXPORT uint8_t lms_control_other_rows_written(lms_control* control, uint64_t* rows,
                                                          char** errptr);
/* 1.4: on = 1 makes the other database refuse writes from ordinary sessions and ends those open
 * (PostgreSQL: new transactions read-only by default; MySQL: read_only), leaving replication's
 * workers alone; on = 0 undoes it. Returns 1 on success. */
LMS_CONTROL_EXPORT uint8_t lms_control_fence_other(lms_control* control, uint8_t on, char** errptr);

/* 1.5: where the source of truth stands in its change stream, and the replication streams that
 * read it (PostgreSQL's slots; none for MySQL, whose replicas confirm nothing to the source). */
typedef struct lms_control_replication_stream {
  uint32_t struct_size;
  const char* name;     /* the slot's name */
  const char* consumer; /* who reads it now (a subscription's application_name); "" when nobody */
  uint64_t lag_bytes;   /* changes written that its reader has not confirmed */
  uint8_t active;
} lms_control_replication_stream;

typedef struct lms_control_replication_position {
  uint32_t struct_size;
  const char* position; /* "0/3000148" (PostgreSQL), "binlog.000003:1547" (MySQL); "" when none is kept */
  size_t stream_count;
  const lms_control_replication_stream* streams;
} lms_control_replication_position;

LMS_CONTROL_EXPORT lms_control_replication_position* lms_control_get_replication_position(
    lms_control* control, char** errptr);
LMS_CONTROL_EXPORT void lms_control_replication_position_destroy(lms_control_replication_position* position);

/* 1.5: one thing checked on the other database by name, and what is wrong with it ("" when
 * nothing). */
typedef struct lms_control_name_check {
  uint32_t struct_size;
  const char* name;
  const char* error;
} lms_control_name_check;

typedef struct lms_control_name_checks {
  uint32_t struct_size;
  size_t count;
  const lms_control_name_check* items;
} lms_control_name_checks;

/* 1.5: reads each named table on the other database (as the application would name it: `orders`,
 * `shop.orders`, `"Order"`; at most 64, no other characters than an identifier's, dots and quotes),
 * answering per table with the database's own error, "" when it could be read. */
LMS_CONTROL_EXPORT lms_control_name_checks* lms_control_check_other_tables(lms_control* control,
                                                                           const char* const* names,
                                                                           size_t count, char** errptr);
/* 1.5: each user who may log in to the proxy (auth-file, auth-query) looked up on the other
 * database: its sessions move there as themselves only where it holds the same verifier. error:
 * "" (the same), or why not. None when clients log in as the connection string's account. */
LMS_CONTROL_EXPORT lms_control_name_checks* lms_control_check_other_logins(lms_control* control,
                                                                           char** errptr);
LMS_CONTROL_EXPORT void lms_control_name_checks_destroy(lms_control_name_checks* checks);

/* 1.2: the proxy's compatibility report as JSON text (what its HTTP port serves at
 * /v1/shadow/report: statements normalized, never a literal), malloc'd; free with
 * lms_control_free. */
LMS_CONTROL_EXPORT char* lms_control_shadow_report(lms_control* control, char** errptr);
/* 1.2: the proxy's metrics in Prometheus's text format (what /metrics serves), malloc'd; free with
 * lms_control_free. */
LMS_CONTROL_EXPORT char* lms_control_metrics(lms_control* control, char** errptr);

#ifdef __cplusplus
}
#endif

#endif /* LMS_CONTROL_H */
