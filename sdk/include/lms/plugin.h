/*
 * LMS plugin ABI, version 1.
 *
 * A plugin is a shared object that exports exactly one C function, `lms_plugin_entry`. The core
 * calls it once, right after loading, with an `lms_negotiation` naming the ABI versions the core
 * speaks and a table of host functions; the plugin answers with a descriptor of itself, or NULL if
 * it cannot work with that host.
 *
 * Rules every struct and call here keeps (see sdk/README.md for the long form):
 *  - C linkage and C types only. Enums cross as uint32_t, booleans as uint8_t, strings as lms_str
 *    (UTF-8, pointer plus length, not NUL-terminated unless said so).
 *  - Every struct begins with `struct_size`, set by whoever fills it, and only ever grows at its end.
 *    A reader checks LMS_HAS_FIELD before touching a field; a field beyond the size is absent.
 *  - Whoever allocates frees. Buffers passed into a call are borrowed for the call only. Plugin
 *    state is a `void*` its create function returned and its destroy function frees.
 *  - No exception, C++ type or allocator crosses the line. Errors are status codes plus a message.
 *
 * Version history (minor versions only add at the ends of structs):
 *   1.0  negotiation, host API (log), dialect functions (framing, handshakes, errors, cancel,
 *        connection strings, probe), shadow functions (per-request decision).
 *   1.1  dialect functions for a cutover: inspect (what a message does to session state),
 *        encode_request (replaying that state on another database), execute (one statement on a
 *        fresh connection, for the replication marker).
 *   1.2  validation: dialect functions that summarize a request's answer in a neutral form
 *        (lms_result_summary) and normalize a statement's text; LMS_EFFECT_BIND; a shadow decision
 *        may ask for both answers to be compared, and a shadow plugin's compare function judges them.
 *        TLS: LMS_HS_START_TLS from either handshake, the front's `tls` setting, the back's sslmode.
 *   1.3  protocols whose messages are delimited by what came before (MySQL): a framer per
 *        connection pair (framer_create / framer_next / framer_destroy), LMS_MSG_NO_ANSWER,
 *        lms_frame.flags (LMS_FRAME_FLAG_ERROR); handshakes where the server speaks first (the core
 *        calls front_step once with no input when a client connects); front_error. A frame may need up to 32
 *        bytes to decide (was 16).
 *   1.4  encode_reset: a request that returns a database session to its state right after login, so
 *        the core can keep the connection for the next client (server-pool-size).
 *   1.5  translation between protocols through a neutral model (lms_request, lms_answer): a client
 *        of one dialect served by a database of another (MySQL clients, a CockroachDB target). The
 *        client's dialect decodes requests and encodes answers; the database's dialect encodes
 *        requests and decodes answers. LMS_FRAME_FLAG_PREPARED and LMS_EFFECT_PREPARE from the
 *        server: a statement whose name its database chose (MySQL's statement id);
 *        LMS_FRAME_FLAG_TYPES: a run of a statement that declares its parameters' types.
 *   1.6  cancel_key_shown: the head of the database's cancel key that clients see as it is
 *        (PostgreSQL's backend process id), the rest of their key staying the proxy's own secret.
 *   1.7  a cutover's preflight: LMS_EFFECT_HOLDS and LMS_EFFECT_RELEASES (session state a cutover
 *        cannot carry: temporary tables, LISTEN, session locks, cursors WITH HOLD), and
 *        open_transactions (the transactions open on a database for longer than a bound); after
 *        it, the old database watched and fenced: rows_written (the database's own count of rows
 *        written) and fence (refuse ordinary sessions' writes, or stop refusing them).
 *   1.8  replication_position: where the database's change stream stands (PostgreSQL's WAL LSN,
 *        MySQL's binlog coordinates) and how far behind each replication slot's reader is, in
 *        bytes: for a preflight's replication check and the cutover record.
 *   1.9  each user as itself: lms_front_result.credentials, what a client's own authentication
 *        yielded that logs in to a database holding the same verifier (SCRAM's ClientKey and
 *        ServerKey), which the core hands to back_create in place of the connection string's
 *        account; list_logins, the users a database lets log in with their stored verifiers;
 *        LMS_MSG_CHANGE_USER and front_change_user, a login again within the session.
 *   1.10 transaction pooling (pool-mode transaction): a database connection serves one client for
 *        one transaction at a time. The dialect keeps, per client, what it made on "its" session
 *        (named statements, settings) and, per database connection, what exists there and which of
 *        the answers it owes are to messages lms sent on its own; it rewrites the client's stream so
 *        that every statement and setting a message needs is there first (pool_* functions).
 *   1.11 pool_statement_work: what a pooled connection did with statements (made again for a
 *        client's run, closed to keep within the bound), for the pool's metrics.
 *   1.12 pool_defer_begin: a request that only begins a transaction is answered by the dialect
 *        and the transaction begun on the connection of the client's next request.
 *   1.13 pool_server_options: options of a pooled connection (LMS_POOL_CACHE_UNNAMED: the
 *        unnamed statements clients parse are kept prepared there under names of the dialect's).
 */
#ifndef LMS_PLUGIN_H
#define LMS_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LMS_PLUGIN_ABI_MAJOR 1u
#define LMS_PLUGIN_ABI_MINOR 13u
#define LMS_PLUGIN_ENTRY_SYMBOL "lms_plugin_entry"

/* True when a struct filled by someone else is large enough to hold `field`. */
#define LMS_HAS_FIELD(ptr, type, field) \
  ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type*)0)->field))

#if defined(_WIN32)
#define LMS_PLUGIN_EXPORT __declspec(dllexport)
#else
#define LMS_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

typedef struct lms_str {
  const char* data;
  size_t len;
} lms_str;

/* A key and a value, both borrowed. Used for connection parameters and options. */
typedef struct lms_kv {
  lms_str key;
  lms_str value;
} lms_kv;

/* Status codes. 0..999 are reserved for the core; a plugin may use 1000 and above. A caller treats a
 * code it does not know as LMS_ERR_UNSUPPORTED. */
typedef enum lms_status {
  LMS_OK = 0,
  LMS_ERR_INVALID = 1,     /* the input is malformed */
  LMS_ERR_UNSUPPORTED = 2, /* the request is understood but not supported */
  LMS_ERR_INTERNAL = 3,    /* the plugin failed; its message says why */
  LMS_ERR_UNAVAILABLE = 4  /* a remote party could not be reached */
} lms_status;

typedef enum lms_log_level {
  LMS_LOG_DEBUG = 0,
  LMS_LOG_INFO = 1,
  LMS_LOG_WARN = 2,
  LMS_LOG_ERROR = 3
} lms_log_level;

/* Functions the core lends every plugin, so a plugin links against nothing of the core's.
 * Any of them may be called from any thread. */
typedef struct lms_host_api {
  uint32_t struct_size;
  /* Writes one log line through the core's logger. `level` is an lms_log_level. */
  void (*log)(uint32_t level, const char* message, size_t message_len);
} lms_host_api;

/* What the core offers. The plugin answers with its descriptor, whose abi_minor is the highest minor
 * it supports that is <= host_abi_minor. When host_abi_major differs from its own it still returns
 * its descriptor (and uses nothing of `host`): the core refuses it, naming both versions. NULL means
 * the plugin cannot work at all. */
typedef struct lms_negotiation {
  uint32_t struct_size;
  uint32_t host_abi_major;
  uint32_t host_abi_minor;
  const lms_host_api* host; /* valid for the lifetime of the loaded plugin */
} lms_negotiation;

typedef enum lms_plugin_kind { LMS_PLUGIN_DIALECT = 1, LMS_PLUGIN_SHADOW = 2 } lms_plugin_kind;

/* The plugin's answer. It is static in the plugin and stays valid while the library is loaded.
 * `abi_major`/`abi_minor` must match exactly what the core checks; `name` and `version` are for
 * people. `functions` points at an lms_dialect_functions or lms_shadow_functions per `kind`. */
typedef struct lms_plugin_descriptor {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t kind;
  lms_str name;
  lms_str version;
  const void* functions;
} lms_plugin_descriptor;

typedef const lms_plugin_descriptor* (*lms_plugin_entry_fn)(const lms_negotiation* negotiation);

/* ------------------------------------------------------------------------------------------------
 * Dialect plugins: one wire protocol. The core owns every socket; the plugin only looks at bytes.
 * Every function below runs on the calling worker loop's thread unless said otherwise, and must not
 * block there.
 * ---------------------------------------------------------------------------------------------- */

typedef enum lms_direction {
  LMS_FROM_CLIENT = 0, /* bytes an application sent, heading to a database */
  LMS_FROM_SERVER = 1  /* bytes a database sent, heading to an application */
} lms_direction;

typedef enum lms_frame_result {
  LMS_FRAME_COMPLETE = 0,  /* `length` (whole message) and `msg_class` are known; the body may not
                              have arrived yet: the core streams it on without holding it */
  LMS_FRAME_NEED_MORE = 1, /* call again with at least `length` bytes */
  LMS_FRAME_INVALID = 2    /* the stream is broken; `error` says why */
} lms_frame_result;

/* What the core needs to know of a message to route it and to track session state. */
typedef enum lms_msg_class {
  LMS_MSG_OTHER = 0,
  /* from the client */
  LMS_MSG_QUERY = 1,     /* a complete request on its own (PostgreSQL 'Q', MySQL COM_QUERY) */
  LMS_MSG_EXTENDED = 2,  /* part of a request finished by LMS_MSG_SYNC (Parse, Bind, ...) */
  LMS_MSG_SYNC = 3,      /* ends an extended request: one LMS_MSG_READY answers it */
  LMS_MSG_FLUSH = 4,     /* asks for pending output; no LMS_MSG_READY answers it */
  LMS_MSG_TERMINATE = 5, /* the client is leaving */
  LMS_MSG_COPY_DATA = 6, /* COPY data, either direction */
  LMS_MSG_COPY_END = 7,  /* CopyDone or CopyFail from the client */
  LMS_MSG_FUNCTION_CALL = 8,
  LMS_MSG_PREPARE = 9,    /* part of an extended request that defines a named statement (Parse) */
  LMS_MSG_CLOSE = 10,     /* part of an extended request that drops a statement or portal (Close) */
  LMS_MSG_NO_ANSWER = 11, /* 1.3: a whole message nothing answers (MySQL COM_STMT_CLOSE) */
  /* 1.9: the client logs in again within the session, as the same or another user (MySQL
   * COM_CHANGE_USER): the core hands it to front_change_user, never to the database. */
  LMS_MSG_CHANGE_USER = 12,
  /* from the server */
  LMS_MSG_READY = 20, /* a request is finished; `txn_state` is set */
  LMS_MSG_ERROR = 21,
  LMS_MSG_NOTICE = 22,
  LMS_MSG_NOTIFICATION = 23,
  LMS_MSG_PARAMETER_STATUS = 24,
  LMS_MSG_COPY_IN = 25, /* the server waits for COPY data from the client */
  LMS_MSG_COPY_OUT = 26,
  LMS_MSG_ROW = 27,
  LMS_MSG_COMPLETE = 28
} lms_msg_class;

typedef enum lms_txn_state { LMS_TXN_IDLE = 0, LMS_TXN_IN_TRANSACTION = 1, LMS_TXN_FAILED = 2 } lms_txn_state;

typedef struct lms_frame {
  uint32_t struct_size;
  uint32_t result;    /* lms_frame_result */
  uint64_t length;    /* COMPLETE: the whole message; NEED_MORE: bytes needed to decide */
  uint32_t msg_class; /* lms_msg_class */
  uint32_t txn_state; /* lms_txn_state, for LMS_MSG_READY */
  const char* error;  /* INVALID: a static NUL-terminated reason */
  uint32_t flags;     /* 1.3: LMS_FRAME_FLAG_* */
} lms_frame;

/* This LMS_MSG_READY ends an answer that failed (MySQL's ERR packet is both). */
#define LMS_FRAME_FLAG_ERROR 1u
/* 1.5: this message answers a request that prepared a statement, and names it (MySQL's
 * COM_STMT_PREPARE_OK): inspect(LMS_FROM_SERVER) on it reports LMS_EFFECT_PREPARE with the name. */
#define LMS_FRAME_FLAG_PREPARED 2u
/* 1.5, from the client: this message runs a statement (LMS_EFFECT_BIND) and declares its
 * parameters' types, which later runs of it leave out (MySQL's COM_STMT_EXECUTE with
 * new-params-bound): a translation started later needs it to read those runs. */
#define LMS_FRAME_FLAG_TYPES 4u

/* Where a handshake writes the bytes it wants sent to its peer. `emit` copies them. */
typedef struct lms_emitter {
  uint32_t struct_size;
  void* ctx;
  void (*emit)(void* ctx, const uint8_t* data, size_t len);
} lms_emitter;

typedef enum lms_handshake_status {
  LMS_HS_NEED_INPUT = 0, /* feed more bytes from the peer */
  LMS_HS_DONE = 1,       /* the handshake succeeded; see the result */
  LMS_HS_FAILED = 2,     /* it failed; an error was emitted to the peer where the protocol allows */
  LMS_HS_CANCEL = 3,     /* front only: the peer sent a cancel request; see the result's cancel key */
  LMS_HS_CLOSE = 4,      /* front only: the peer asked to close before starting (nothing to log) */
  LMS_HS_START_TLS = 5   /* 1.2: the bytes emitted so far go out in plain text; from here on the
                            core runs TLS on this connection (front: as the server; back: as the
                            client, with the connection string's ssl* settings) and calls step
                            again once it is established (back: with no input) */
} lms_handshake_status;

/* The front handshake is the proxy acting as the database for an application. */
typedef struct lms_front_result {
  uint32_t struct_size;
  /* DONE: what the client asked for at startup (user, database, application_name, options, ...),
   * borrowed from the handshake state until it is destroyed. */
  const lms_kv* startup_params;
  size_t startup_param_count;
  /* CANCEL: the key the client presents (the proxy's own key, handed out by front_finish). */
  const uint8_t* cancel_key;
  size_t cancel_key_len;
  /* FAILED: why, for the log. NUL-terminated, borrowed. */
  const char* error;
  /* 1.9: startup parameters whose key starts with "lms." are the front's own memo (MySQL: the
   * nonce the client's proofs are made with): the core keeps them with the session, hands them to
   * front_change_user, and gives them to no database. */
  /* 1.9, DONE: what the client's authentication yielded that logs in, as the client's own user, to
   * any database holding the same verifier; borrowed like startup_params. The core then gives
   * back_create these keys, the client's user, and not the connection string's user and password.
   * Keys: scram_client_key and scram_server_key (base64; SCRAM-SHA-256's ClientKey, recovered from
   * the client's proof, and ServerKey, from the verifier). None: the connection string's account. */
  const lms_kv* credentials;
  size_t credential_count;
} lms_front_result;

/* The back handshake is the proxy acting as an application for a database. */
typedef struct lms_back_result {
  uint32_t struct_size;
  /* DONE: the key with which the database lets this session be cancelled. */
  const uint8_t* cancel_key;
  size_t cancel_key_len;
  /* DONE: bytes the front must relay to the client when it finishes (PostgreSQL: the server's
   * ParameterStatus and notice messages), borrowed until the state is destroyed. */
  const uint8_t* welcome;
  size_t welcome_len;
  /* FAILED: why, NUL-terminated, and the protocol's error code (PostgreSQL SQLSTATE) if the server
   * gave one, else empty. Both borrowed. */
  const char* error;
  const char* error_code;
} lms_back_result;

/* What one whole message means beyond its class (ABI 1.1). A cutover carries a session's settings
 * and prepared statements to the new source of truth; `connections list` shows the last query. */
typedef enum lms_state_effect {
  LMS_EFFECT_NONE = 0,
  LMS_EFFECT_PREPARE = 1,    /* from the client: defines the named statement `name` */
  LMS_EFFECT_DEALLOCATE = 2, /* from the client: drops the named statement `name` */
  LMS_EFFECT_DEALLOCATE_ALL = 3,
  LMS_EFFECT_SETTING = 4,        /* from the client: sets session setting `name` (not for one transaction) */
  LMS_EFFECT_RESET_SETTINGS = 5, /* from the client: every setting back to its default */
  LMS_EFFECT_DISCARD_ALL = 6,    /* from the client: settings and statements dropped */
  LMS_EFFECT_ERROR = 7,          /* from the server: an error; `text` is its message */
  LMS_EFFECT_BIND = 8,           /* 1.2, from the client: runs the named statement `name` (Bind) */
  /* 1.5: LMS_EFFECT_PREPARE with an empty name from the client: the database names the statement in
   * its answer (see LMS_FRAME_FLAG_PREPARED). */
  /* 1.7, from the client: the message makes state that lives in the database session and that no
   * replay can make again on another database; `name` is its kind in a few words, as an operator
   * reads it ("temporary table", "LISTEN", "advisory lock", "cursor WITH HOLD"). */
  LMS_EFFECT_HOLDS = 9,
  /* 1.7, from the client: the session no longer holds any state of kind `name` (UNLISTEN *, DISCARD
   * TEMP, ...). LMS_EFFECT_DISCARD_ALL releases every kind. */
  LMS_EFFECT_RELEASES = 10
} lms_state_effect;

typedef struct lms_message_detail {
  uint32_t struct_size;
  uint32_t effect; /* lms_state_effect */
  lms_str name;    /* borrowed from the message; for HOLDS and RELEASES a kind, valid as long as the plugin */
  lms_str text;    /* the SQL text a client message carries, or an error's message; borrowed */
} lms_message_detail;

/* One column of a result set. Frozen: it is an array element, so it never grows. */
typedef struct lms_column {
  lms_str name;
  lms_str type; /* the type's name as the database reports it (PostgreSQL: int4, text, ...) */
} lms_column;

/* A request's answer in a form no protocol shapes (1.2). A request may hold several statements:
 * columns, rows, the checksum and the tags then cover every result set, in order. */
typedef struct lms_result_summary {
  uint32_t struct_size;
  uint32_t result_sets;      /* row descriptions seen */
  const lms_column* columns; /* of every result set, in order */
  size_t column_count;
  uint64_t rows;     /* rows returned, over every result set */
  uint64_t checksum; /* of the rows' values, independent of their order within a result set */
  lms_str tag;       /* completion tags ("SELECT 3", "UPDATE 1"), joined with ';' */
  lms_str error_code;    /* PostgreSQL SQLSTATE of the first error; empty when none */
  lms_str error_message; /* its message */
  uint8_t complete;      /* 0: something was too large to summarize in full; do not trust it */
} lms_result_summary;

/* One transaction open on a database (1.7), as the database itself reports it. */
typedef struct lms_open_transaction {
  uint32_t struct_size;
  uint64_t age_ms; /* since the transaction began */
  lms_str session; /* the database's name for the session (PostgreSQL's backend pid, MySQL's thread id) */
  lms_str client;  /* the client's address as the database sees it, host:port; empty for a local socket */
  lms_str user;
  lms_str state;     /* the database's own word ("idle in transaction", "active", InnoDB's "LOCK WAIT") */
  lms_str statement; /* its last or current statement, as the database shows it */
} lms_open_transaction;

typedef struct lms_transaction_sink {
  void* ctx;
  void (*emit)(void* ctx, const lms_open_transaction* transaction);
} lms_transaction_sink;

/* 1.8: one reader of a database's change stream, as the database reports it (a PostgreSQL
 * replication slot). */
typedef struct lms_replication_stream {
  uint32_t struct_size;
  lms_str name;       /* the slot's name */
  lms_str consumer;   /* who reads it now (a subscription's application_name); empty when nobody does */
  uint64_t lag_bytes; /* changes written that its reader has not confirmed yet */
  uint8_t active;     /* a reader is connected */
} lms_replication_stream;

typedef struct lms_replication_sink {
  void* ctx;
  /* Once: the database's position in its change stream, in its own notation ("0/3000148",
   * "binlog.000003:1547"); empty when it keeps none (MySQL without a binary log). */
  void (*position)(void* ctx, lms_str position);
  void (*stream)(void* ctx, const lms_replication_stream* stream);
} lms_replication_sink;

/* 1.9: a user a database lets log in, and what it keeps to check its password. */
typedef struct lms_login_sink {
  void* ctx;
  void (*emit)(void* ctx, lms_str user, lms_str verifier);
} lms_login_sink;

/* An error the core wants a client to see, encoded by the dialect. */
typedef struct lms_error {
  uint32_t struct_size;
  lms_str severity; /* "ERROR" or "FATAL" */
  lms_str code;     /* PostgreSQL SQLSTATE; the MySQL dialect maps it */
  lms_str message;
} lms_error;

/* ---- 1.5: the neutral model a translation passes through ---------------------------------------
 * A client of one dialect can be served by a database of another: the client's dialect decodes its
 * requests into lms_request and encodes lms_answer events back into its protocol; the database's
 * dialect encodes the requests and decodes its answers. Values cross as text in these forms:
 * integers, decimals and floats as SQL prints them; booleans "1" / "0"; bytes raw; dates
 * "YYYY-MM-DD"; times "HH:MM:SS[.ffffff]"; timestamps "YYYY-MM-DD HH:MM:SS[.ffffff]" (with a
 * "+HH[:MM]" offset for LMS_TYPE_TIMESTAMPTZ); text, JSON and anything else UTF-8. */

typedef enum lms_type {
  LMS_TYPE_OTHER = 0, /* text the database printed */
  LMS_TYPE_BOOL = 1,
  LMS_TYPE_INT16 = 2,
  LMS_TYPE_INT32 = 3,
  LMS_TYPE_INT64 = 4,
  LMS_TYPE_FLOAT32 = 5,
  LMS_TYPE_FLOAT64 = 6,
  LMS_TYPE_DECIMAL = 7,
  LMS_TYPE_TEXT = 8,
  LMS_TYPE_BYTES = 9,
  LMS_TYPE_DATE = 10,
  LMS_TYPE_TIME = 11,
  LMS_TYPE_TIMESTAMP = 12,
  LMS_TYPE_TIMESTAMPTZ = 13,
  LMS_TYPE_JSON = 14
} lms_type;

/* One value. Frozen: it is an array element. */
typedef struct lms_value {
  lms_str text;    /* in the neutral form of `type` */
  uint32_t type;   /* lms_type; a parameter's type as the client sent it */
  uint8_t is_null;
} lms_value;

/* One column of a result set, or one parameter of a statement. Frozen. */
typedef struct lms_field {
  lms_str name;
  uint32_t type;    /* lms_type */
  lms_str type_name; /* as the database names it (int4, varchar, ...) */
} lms_field;

typedef enum lms_request_kind {
  LMS_REQ_NONE = 0,    /* nothing for the database (a message the client's dialect answers itself) */
  LMS_REQ_QUERY = 1,   /* text: one or more statements, run in order */
  LMS_REQ_PREPARE = 2, /* name, text, placeholders: defines a statement; answered by its PARAMS and
                          COLUMNS (or none) and READY */
  LMS_REQ_EXECUTE = 3, /* name, params: runs a statement; with prepared 0 the database does not have
                          it yet and text and placeholders define it first */
  LMS_REQ_CLOSE = 4,   /* name: drops a statement; nothing answers */
  LMS_REQ_PING = 5,    /* a round trip that runs nothing; READY answers it */
  LMS_REQ_USE = 6,     /* text: the database (schema) later statements use */
  LMS_REQ_RESET = 7,   /* the session back to its state after login: settings and statements go */
  LMS_REQ_QUIT = 8,    /* the client leaves; nothing answers */
  LMS_REQ_INVALID = 9  /* the client's stream is broken; text says why */
} lms_request_kind;

typedef struct lms_request {
  uint32_t struct_size;
  uint32_t kind; /* lms_request_kind */
  lms_str name;  /* a statement's name */
  lms_str text;  /* SQL */
  /* Offsets in `text` of its parameter markers, in order, each one byte long (MySQL's `?`). */
  const size_t* placeholders;
  size_t placeholder_count;
  const lms_value* params;
  size_t param_count;
  uint8_t prepared; /* EXECUTE: the database answered this statement's PREPARE on this connection */
} lms_request;

typedef enum lms_answer_kind {
  LMS_ANS_COLUMNS = 1,  /* fields: a result set begins (or, answering PREPARE, its columns) */
  LMS_ANS_ROW = 2,      /* values, one per column */
  LMS_ANS_COMPLETE = 3, /* a statement finished: tag, affected_rows */
  LMS_ANS_ERROR = 4,    /* code (SQLSTATE), message; READY still follows */
  LMS_ANS_READY = 5,    /* the request is over: txn_state */
  LMS_ANS_PARAMS = 6,   /* fields: a prepared statement's parameters */
  LMS_ANS_NOTICE = 7    /* code, message: a warning */
} lms_answer_kind;

typedef struct lms_answer {
  uint32_t struct_size;
  uint32_t kind; /* lms_answer_kind */
  const lms_field* fields;
  size_t field_count;
  const lms_value* values;
  size_t value_count;
  lms_str tag;             /* COMPLETE: the database's own words ("INSERT 0 1") */
  uint64_t affected_rows;  /* COMPLETE: rows a write changed, or rows a query returned */
  uint64_t last_insert_id; /* COMPLETE: 0 when the database does not say */
  uint8_t returns_rows;    /* COMPLETE: the statement was a query (a result set came) */
  lms_str code;            /* ERROR, NOTICE: SQLSTATE */
  lms_str message;         /* ERROR, NOTICE; and why, when a decoder finds the stream broken */
  uint32_t txn_state;      /* READY: lms_txn_state */
} lms_answer;

typedef struct lms_dialect_functions {
  uint32_t struct_size;

  /* The port a connection string means when it names none (PostgreSQL 5432, CockroachDB 26257). */
  uint16_t default_port;
  /* Bytes in a cancel key this dialect hands to clients (PostgreSQL: 8, process id and secret). */
  uint32_t cancel_key_len;

  /* Parses a connection string in any form the dialect accepts. Calls `on_param` once for each
   * parameter present, with canonical keys: host, port, user, password, dbname, sslmode,
   * sslrootcert, sslcert, sslkey, application_name, options, connect_timeout. Strings are borrowed
   * for the callback only. On failure writes a NUL-terminated reason into `error` (at most
   * error_cap bytes) and returns LMS_ERR_INVALID. Any thread. */
  uint32_t (*parse_connection_string)(const char* text, size_t text_len, void* ctx,
                                      void (*on_param)(void* ctx, lms_str key, lms_str value), char* error,
                                      size_t error_cap);

  /* Finds the next message in `data` coming from `direction` and classifies it. Pure: no state. */
  void (*frame)(uint32_t direction, const uint8_t* data, size_t len, lms_frame* out);

  /* Front handshake. `settings`: auth_method (trust | password | md5 | scram-sha-256), user,
   * password: who may connect; tls (1.2): off (decline a client's request for TLS), on (accept
   * it), require (and refuse a client that starts without it). Returns NULL only when out of
   * memory. */
  void* (*front_create)(const lms_kv* settings, size_t setting_count);
  /* Consumes bytes the client sent; sets *consumed; may emit replies. On DONE the client is
   * authenticated and waits: the core connects the database, then calls front_finish or
   * front_fail. */
  uint32_t (*front_step)(void* front, const uint8_t* data, size_t len, size_t* consumed,
                         const lms_emitter* out, lms_front_result* result);
  /* Tells the client it is in: relays the back handshake's welcome and hands out `cancel_key`,
   * the proxy's own key of cancel_key_len bytes. */
  void (*front_finish)(void* front, const uint8_t* welcome, size_t welcome_len, const uint8_t* cancel_key,
                       size_t cancel_key_len, const lms_emitter* out);
  void (*front_destroy)(void* front);

  /* Back handshake. `params` are the database's connection parameters (as parse_connection_string
   * gives them) followed by the client's startup parameters; later keys override earlier ones
   * except user and password, which always come from the connection string (1.9: unless the front
   * gave credentials, which come in their place, with the client's user; a back handshake never
   * sends them to the database). With sslmode prefer,
   * require, verify-ca or verify-full (1.2; prefer when absent) the handshake first asks for TLS
   * and answers LMS_HS_START_TLS when the database agrees. */
  void* (*back_create)(const lms_kv* params, size_t param_count);
  /* Emits the first bytes to the database (the startup message). */
  void (*back_start)(void* back, const lms_emitter* out);
  uint32_t (*back_step)(void* back, const uint8_t* data, size_t len, size_t* consumed, const lms_emitter* out,
                        lms_back_result* result);
  void (*back_destroy)(void* back);

  /* Encodes an error message for a client, in the message flow (after the handshake) or as the
   * handshake's final answer. */
  void (*encode_error)(const lms_error* error, const lms_emitter* out);
  /* Encodes what a new connection to the database sends to cancel the session whose back
   * handshake gave `cancel_key`. */
  void (*encode_cancel)(const uint8_t* cancel_key, size_t cancel_key_len, const lms_emitter* out);
  /* Optional from here on: a plugin may leave these NULL or end its table before them. */

  /* Encodes a polite goodbye to a database (PostgreSQL Terminate). */
  void (*encode_terminate)(const lms_emitter* out);

  /* Checks that the database answers, within timeout_ms. Blocking: the core calls it only from
   * its control thread, never from a worker loop. LMS_OK or LMS_ERR_UNAVAILABLE with a reason. */
  uint32_t (*probe)(const lms_kv* params, size_t param_count, uint32_t timeout_ms, char* error,
                    size_t error_cap);

  /* 1.1 ------------------------------------------------------------------------------------------ */

  /* Looks into one whole message (as `frame` delimited it) from `direction`: its effect on session
   * state and its text. Pure; `out` borrows from `message`. */
  void (*inspect)(uint32_t direction, const uint8_t* message, size_t len, lms_message_detail* out);
  /* Emits whole client messages (one message whose effect inspect reported, e.g. a Parse or a
   * simple query) as one request its database answers with exactly one LMS_MSG_READY, so the core
   * can replay a session's state on another database and know when the replay is done. */
  void (*encode_request)(const uint8_t* messages, size_t len, const lms_emitter* out);
  /* Runs one SQL statement on a fresh connection with `params`, within timeout_ms. Blocking: the
   * core calls it only from its control thread. Sets *rows to the rows it returned (or affected).
   * LMS_OK, or a status with a reason. */
  uint32_t (*execute)(const lms_kv* params, size_t param_count, const char* sql, size_t sql_len,
                      uint32_t timeout_ms, uint64_t* rows, char* error, size_t error_cap);

  /* 1.2 ------------------------------------------------------------------------------------------ */

  /* A summarizer turns one request's answer from the database into an lms_result_summary. The core
   * creates one per connection it validates and feeds it the answer's messages, in pieces of any
   * size; `summary_get` reads the summary of everything fed since the last reset; `summary_reset`
   * starts the next answer. Values of the columns named in `ignored_columns` (case-insensitive) do
   * not enter the checksum. All on the calling loop; memory stays bounded whatever is fed. */
  void* (*summary_create)(const lms_str* ignored_columns, size_t ignored_count);
  void (*summary_feed)(void* summary, const uint8_t* data, size_t len);
  /* Fills `out`; what it points to is borrowed until the next feed, reset or destroy. */
  void (*summary_get)(void* summary, lms_result_summary* out);
  void (*summary_reset)(void* summary);
  void (*summary_destroy)(void* summary);
  /* Emits `sql` with its literals (strings, numbers) replaced by `?` and its whitespace collapsed,
   * so that executions of one statement with different values group together in a report. */
  void (*normalize)(const char* sql, size_t len, const lms_emitter* out);

  /* 1.3 ------------------------------------------------------------------------------------------ */

  /* For protocols whose messages cannot be delimited without their history (MySQL: a result set's
   * rows and its end look alike): one framer per client connection and its database connection,
   * made when the handshakes are done from the front handshake's startup parameters (the
   * capabilities both sides agreed on). framer_next replaces `frame` for that connection pair and
   * is fed every message of both directions in the order they were sent; it takes a message (and
   * moves its state on) only when it answers LMS_FRAME_COMPLETE. NULL: `frame` is enough. */
  void* (*framer_create)(const lms_kv* startup_params, size_t param_count);
  void (*framer_next)(void* framer, uint32_t direction, const uint8_t* data, size_t len, lms_frame* out);
  void (*framer_destroy)(void* framer);
  /* Encodes an error for a client still in its handshake (the core refusing it, or the database
   * refusing the session), where only the front knows what the client expects next (MySQL: the
   * packet's sequence id). NULL: encode_error serves. */
  void (*front_error)(void* front, const lms_error* error, const lms_emitter* out);

  /* 1.4 ------------------------------------------------------------------------------------------ */

  /* Emits one request that returns an idle database session (no transaction open) to the state it
   * had right after its handshake: settings, prepared statements, temporary tables, locks and
   * subscriptions dropped (PostgreSQL: DISCARD ALL). The database answers it with exactly one
   * LMS_MSG_READY, which `frame` can delimit. NULL: connections of this dialect are never reused. */
  void (*encode_reset)(const lms_emitter* out);

  /* 1.5 ------------------------------------------------------------------------------------------ */

  /* The client's side of a translation, when clients speak this dialect. One translator per client
   * connection and the database connection serving it, made once the client logged in, from its
   * startup parameters and the statements it prepared before (name and the client's message that
   * prepared it, as inspect reported them), which the database does not have yet. */
  void* (*translator_create)(const lms_kv* startup_params, size_t param_count, const lms_kv* statements,
                             size_t statement_count);
  /* Takes bytes the client sent, in pieces of any size. */
  void (*translator_feed)(void* translator, const uint8_t* data, size_t len);
  /* The next whole request: LMS_FRAME_COMPLETE (out is set, borrowed until the next call),
   * LMS_FRAME_NEED_MORE, or LMS_FRAME_INVALID (out->text says why). A command the dialect answers
   * itself (or refuses) becomes LMS_REQ_PING, so its answer keeps its place among the others. */
  uint32_t (*translator_next)(void* translator, lms_request* out);
  /* Encodes one answer event for the client, in order. */
  void (*translator_answer)(void* translator, const lms_answer* answer, const lms_emitter* out);
  void (*translator_destroy)(void* translator);
  /* A statement the client prepared through another connection, named by that connection's
   * database (a shadow link learning the source's statement ids): the translator defines it on the
   * database at its first use. `messages` as for translator_create. */
  void (*translator_learn)(void* translator, lms_str name, const uint8_t* messages, size_t len);

  /* The database's side, when the database speaks this dialect. encode_translated emits one
   * request, which the database answers with the events the request kind names, READY last. */
  void (*encode_translated)(const lms_request* request, const lms_emitter* out);
  /* Decodes the database's answers, fed in pieces of any size, into events. next: as
   * translator_next; the answer borrows from the decoder until the next call. */
  void* (*decoder_create)(void);
  void (*decoder_feed)(void* decoder, const uint8_t* data, size_t len);
  uint32_t (*decoder_next)(void* decoder, lms_answer* out);
  void (*decoder_destroy)(void* decoder);

  /* 1.6 ------------------------------------------------------------------------------------------ */

  /* How many leading bytes of the cancel key a database gave a session the client is handed as
   * they are, at most cancel_key_len (PostgreSQL: 4, the backend's process id, which drivers report
   * as the session's PID and applications pass to pg_terminate_backend or compare with a
   * notification's sender). The rest of the client's key is random, so cancels stay routed by the
   * whole key and unguessable. 0 or absent: the whole key is the proxy's own. */
  uint32_t cancel_key_shown;

  /* 1.7 ------------------------------------------------------------------------------------------ */

  /* Lists the transactions open on the database longer than min_age_ms, oldest first, other than
   * the caller's own, each through `emit` (borrowed for that call only), on a fresh connection with
   * `params`, within timeout_ms. Blocking: the core calls it only from its control thread. LMS_OK,
   * or a status with a reason. NULL: the dialect cannot tell. */
  uint32_t (*open_transactions)(const lms_kv* params, size_t param_count, uint64_t min_age_ms,
                                uint32_t timeout_ms, const lms_transaction_sink* out, char* error,
                                size_t error_cap);
  /* Sets *rows to the database's own running count of rows inserted, updated and deleted (in the
   * connection's database, or the whole server where the dialect cannot tell one from another),
   * read on a fresh connection. It only grows, and may lag the writes by the database's statistics
   * interval. Blocking: control thread only. NULL: the dialect cannot tell. */
  uint32_t (*rows_written)(const lms_kv* params, size_t param_count, uint32_t timeout_ms, uint64_t* rows,
                           char* error, size_t error_cap);
  /* on = 1: makes the database refuse writes from ordinary sessions from now on and ends those open
   * now (their transactions roll back), leaving replication's own workers alone; on = 0: undoes it.
   * On a fresh connection with `params`, whose account must be allowed to (PostgreSQL: the
   * database's owner; MySQL: SUPER or READ_ONLY ADMIN). Blocking: control thread only. NULL: the
   * dialect cannot fence. */
  uint32_t (*fence)(const lms_kv* params, size_t param_count, uint8_t on, uint32_t timeout_ms, char* error,
                    size_t error_cap);

  /* 1.8 ------------------------------------------------------------------------------------------ */

  /* Reports, through `out` (borrowed for each call only), the database's position in its change
   * stream and the replication streams reading it, on a fresh connection with `params`. Blocking:
   * control thread only. NULL: the dialect cannot tell. */
  uint32_t (*replication_position)(const lms_kv* params, size_t param_count, uint32_t timeout_ms,
                                   const lms_replication_sink* out, char* error, size_t error_cap);

  /* 1.9 ------------------------------------------------------------------------------------------ */

  /* Emits each user the database lets log in with its stored verifier (PostgreSQL: pg_authid's
   * rolpassword), as `query` answers them in its first two columns (empty query: the dialect's
   * own), on a fresh connection with `params`. Blocking: control thread only. NULL: the dialect
   * cannot tell. */
  uint32_t (*list_logins)(const lms_kv* params, size_t param_count, const char* query, size_t query_len,
                          uint32_t timeout_ms, const lms_login_sink* out, char* error, size_t error_cap);
  /* A client's LMS_MSG_CHANGE_USER message (whole, `message` of `len` bytes), given to a front just
   * made with front_create: the front authenticates the client again as the user it names, as
   * front_step does at login, and answers as front_step does (NEED_INPUT: further client bytes go
   * to front_step; DONE: result as at login, for the core to log in to the database anew; FAILED:
   * the client was told, and the session goes on as before). `session_params` are the session's
   * startup parameters from its first login. On DONE the core calls front_finish once the
   * database has let the new user in. NULL: the dialect has no such message. */
  uint32_t (*front_change_user)(void* front, const lms_kv* session_params, size_t session_param_count,
                                const uint8_t* message, size_t len, const lms_emitter* out,
                                lms_front_result* result);

  /* 1.10 ----------------------------------------------------------------------------------------- */

  /* Transaction pooling. A pool client is one client's session as the client sees it (its named
   * statements and settings, from its startup parameters and what it set since); a pool server is
   * one database connection as lms made it (what is prepared there, up to `max_statements`, least
   * recently used dropped first; its settings; the answers it owes, in order). The core gives the
   * dialect every client message sent and the head of every server message received, and sends
   * and forwards what the dialect says. All NULL: the dialect pools by session only. */
  void* (*pool_client_create)(const lms_kv* startup_params, size_t param_count);
  void (*pool_client_destroy)(void* client);
  void* (*pool_server_create)(uint32_t max_statements);
  void (*pool_server_destroy)(void* server);
  /* The welcome a database connection gave at its login, as this client is to see it (the
   * parameters it reports, with the values the client asked for at startup). */
  void (*pool_welcome)(void* client, const uint8_t* welcome, size_t len, const lms_emitter* out);
  /* `server` begins to serve `client`: emits to `to_server` what brings its settings to the
   * client's (the answers to it are the dialect's own). */
  void (*pool_lend)(void* client, void* server, const lms_emitter* to_server);
  /* One client message on its way to `server`: `message` holds its first `len` bytes, all of it
   * when `whole`. Emits to `to_server` what must go before it (a statement it uses, prepared
   * there) and returns LMS_POOL_PASS (the message follows as it is) or LMS_POOL_REPLACED (what
   * was emitted takes its place: only when `whole`). */
  uint32_t (*pool_client_message)(void* client, void* server, const uint8_t* message, size_t len,
                                  uint8_t whole, const lms_emitter* to_server);
  /* The start of one server message (`len` bytes: all of it, or at least 32): LMS_POOL_PASS (it
   * goes to the client) or LMS_POOL_DROP (it answers something lms sent on its own). */
  uint32_t (*pool_server_message)(void* server, const uint8_t* head, size_t len);
  /* The client left with its transaction open: emits what ends it (its answer the dialect's own). */
  void (*pool_abandon)(void* server, const lms_emitter* to_server);
  /* Answers the connection still owes (to the client's messages and to lms's own). */
  uint32_t (*pool_owed)(void* server);
  /* Statements prepared on the connection now. */
  uint32_t (*pool_statements)(void* server);
  /* Whole requests (`len` bytes, ending with the message a ReadyForQuery answers) sent between
   * transactions while no connection is free: 1 when the dialect answers them itself (emitted to
   * `to_client`, as the database would; PostgreSQL: requests of Parse, Close and Sync only, the
   * statements recorded and made on the connection of their first run, or forgotten), else 0. */
  uint32_t (*pool_answer_alone)(void* client, const uint8_t* requests, size_t len,
                                const lms_emitter* to_client);
  /* 1.11 ----------------------------------------------------------------------------------------- */
  /* What `server` did with statements since the last call: `made`, a client's statements prepared
   * there before a run of them (the client made them on another connection, or this one had
   * closed them); `evicted`, statements closed to keep within max_statements. NULL: not counted. */
  void (*pool_statement_work)(void* server, uint64_t* made, uint64_t* evicted);
  /* 1.12 ----------------------------------------------------------------------------------------- */
  /* Whole requests (as for pool_answer_alone) sent while the client holds no connection, whether
   * one is free or not: 1 when the dialect answers them itself (emitted to `to_client`, as the
   * database would) because they only begin a transaction, or only end one so begun in which
   * nothing ran; the transaction then begins on the connection the client's next request gets,
   * emitted by pool_lend before that request. So a transaction holds its connection one round
   * trip less. PostgreSQL: BEGIN / START TRANSACTION with standard modes only (CockroachDB: plain
   * BEGIN), alone in a Query or in Parse/Bind/Execute/Sync. Else 0. NULL: never. */
  uint32_t (*pool_defer_begin)(void* client, const uint8_t* requests, size_t len,
                               const lms_emitter* to_client);
  /* 1.13 ----------------------------------------------------------------------------------------- */
  /* Options of `server` (lms_pool_option bits), given once, right after pool_server_create. NULL:
   * the dialect has none (the core refuses to start with one set). */
  void (*pool_server_options)(void* server, uint32_t options);
} lms_dialect_functions;

/* pool_server_options (1.13). */
typedef enum lms_pool_option {
  /* A statement a client parses as the unnamed one (most drivers' extended queries parse it afresh
   * for every run) is prepared once per connection under a name of the dialect's, and the client's
   * Binds and Describes of it are pointed there: the database parses and plans it once, not each
   * time. Its plans become the database's cached plans. */
  LMS_POOL_CACHE_UNNAMED = 1u
} lms_pool_option;

/* pool_client_message and pool_server_message (1.10). */
typedef enum lms_pool_verdict {
  LMS_POOL_PASS = 0,
  LMS_POOL_REPLACED = 1,
  LMS_POOL_DROP = 2
} lms_pool_verdict;

/* ------------------------------------------------------------------------------------------------
 * Shadow plugins: the policy for one request. The core does the I/O; the plugin decides.
 * ---------------------------------------------------------------------------------------------- */

typedef enum lms_shadow_answer {
  LMS_ANSWER_SOURCE = 0,           /* the client gets the source of truth's result */
  LMS_ANSWER_TARGET_ERROR_WINS = 1 /* a target error replaces a successful source result */
} lms_shadow_answer;

/* One request of one session. A request is what a client sends up to and including the message
 * that a ReadyForQuery answers (a simple query, a Sync, a function call). Whatever the decision,
 * the core always sends the target the messages that define or drop session state (Parse, Close),
 * so that a request the plugin drops cannot make a later one fail there. */
typedef struct lms_request_info {
  uint32_t struct_size;
  uint32_t msg_class;       /* lms_msg_class of the message that starts the request */
  uint32_t txn_state;       /* the session's transaction state before the request */
  uint8_t target_busy;      /* a previous request is still running on the target */
  uint8_t target_available; /* the session's target connection is up (or not tried yet) */
  /* 1.2: the SQL text the request runs, when the core knows it as the request starts (a simple
   * query that arrived whole, a Parse, a Bind of a statement the session prepared); else empty.
   * Borrowed for the call. */
  lms_str statement;
} lms_request_info;

/* The plugin's answer. When the core waits for the target and the target does not answer within the
 * configured deadline (shadow-timeout), the target counts as failed with SQLSTATE 57014. */
typedef struct lms_shadow_decision {
  uint32_t struct_size;
  uint8_t send_to_target;  /* run the request on the non-source-of-truth database too */
  uint8_t wait_for_target; /* hold the client's answer until the target answered */
  uint32_t answer;         /* lms_shadow_answer, used when waiting */
  /* 1.2: summarize both databases' answers to this request and call `compare` once both are in
   * (ignored by a core without validation, or when the plugin has no compare function). */
  uint8_t compare;
} lms_shadow_decision;

/* What the databases answered to one request, for a shadow plugin to judge (1.2). */
typedef struct lms_comparison {
  uint32_t struct_size;
  lms_str statement; /* the request's statement, normalized by the dialect; empty when unknown */
  const lms_result_summary* source; /* the source of truth's answer */
  const lms_result_summary* target; /* the target's; a target that failed without answering (dead,
                                       too slow) has error_code set and nothing else */
  uint64_t source_ns; /* from the request to the end of each answer */
  uint64_t target_ns;
} lms_comparison;

/* The kinds of difference a verdict can name; a bit mask. */
typedef enum lms_difference {
  LMS_DIFF_TARGET_ERROR = 1u << 0, /* the target failed where the source did not (or differently) */
  LMS_DIFF_ROW_COUNT = 1u << 1,
  LMS_DIFF_CHECKSUM = 1u << 2,
  LMS_DIFF_COLUMNS = 1u << 3,
  LMS_DIFF_TAG = 1u << 4,
  LMS_DIFF_OTHER = 1u << 31 /* a plugin's own kind */
} lms_difference;

typedef struct lms_verdict {
  uint32_t struct_size;
  uint32_t differences; /* lms_difference bits; 0: the answers agree */
  char* detail;         /* the core's buffer: one line saying what differs, NUL-terminated */
  size_t detail_cap;
} lms_verdict;

typedef struct lms_shadow_functions {
  uint32_t struct_size;
  /* Creates the policy's state from its options; NULL only when out of memory. Control thread. */
  void* (*create)(const lms_kv* options, size_t option_count);
  void (*destroy)(void* self);
  /* Decides one request. Called on a worker loop, concurrently from several loops: a plugin that
   * keeps mutable state in `self` must make it thread-safe. */
  void (*decide)(void* self, const lms_request_info* request, lms_shadow_decision* out);
  /* 1.2, optional. Judges one comparison the plugin asked for: sets out->differences and, when
   * they are not 0, out->detail. The core counts every verdict in its compatibility report and
   * writes each difference to the mismatch file. Same threading as decide. */
  void (*compare)(void* self, const lms_comparison* comparison, lms_verdict* out);
} lms_shadow_functions;

#ifdef __cplusplus
}
#endif

#endif /* LMS_PLUGIN_H */
