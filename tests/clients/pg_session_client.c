/* A libpq client for the integration tests: what an application's driver sees of its session.
 *
 *   pg_session_client CONNINFO
 *
 * Prints "pid <PQbackendPID>" once connected, then runs each line of standard input as one query
 * and prints, in order: each row's values tab-separated, then "ok <command tag>" or
 * "error <SQLSTATE> <primary message>", then each notification that has arrived as
 * "notify <channel> <payload> from <sender PID>", each notice (and an error that came unasked) as
 * "notice <SQLSTATE> <message>",
 * and "application_name <value>" as the last ParameterStatus said it. A line "wait N" waits N
 * milliseconds for messages the server sends unasked (notifications, an error that ends the
 * session) and prints them. When the connection is gone it prints "closed <libpq's message>" and
 * exits 0. Exits 1 when it cannot connect. */
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_notice(void* arg, const PGresult* res) {
  (void)arg;
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  const char* message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
  printf("notice %s %s\n", state ? state : "-", message ? message : "");
}

static void print_notifications(PGconn* conn) {
  PQconsumeInput(conn);
  PGnotify* n;
  while ((n = PQnotifies(conn)) != NULL) {
    printf("notify %s %s from %d\n", n->relname, n->extra, n->be_pid);
    PQfreemem(n);
  }
}

static void print_result(PGresult* res) {
  switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK:
      for (int r = 0; r < PQntuples(res); ++r) {
        for (int c = 0; c < PQnfields(res); ++c) printf("%s%s", c ? "\t" : "", PQgetvalue(res, r, c));
        printf("\n");
      }
      printf("ok %s\n", PQcmdStatus(res));
      break;
    case PGRES_COMMAND_OK:
      printf("ok %s\n", PQcmdStatus(res));
      break;
    default: {
      const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
      const char* message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
      printf("error %s %s\n", state ? state : "-", message ? message : PQresultErrorMessage(res));
    }
  }
}

/* Waits up to `ms` for the server to say something unasked, and prints what it said. libpq hands
 * an error that arrives on an idle connection (a FATAL that ends the session) to the notice
 * receiver. */
static void wait_for_messages(PGconn* conn, int ms) {
  struct pollfd p = {PQsocket(conn), POLLIN, 0};
  if (poll(&p, 1, ms) > 0) print_notifications(conn);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CONNINFO\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  PGconn* conn = PQconnectdb(argv[1]);
  if (PQstatus(conn) != CONNECTION_OK) {
    printf("connect error %s", PQerrorMessage(conn));
    return 1;
  }
  PQsetNoticeReceiver(conn, print_notice, NULL);
  printf("pid %d\n", PQbackendPID(conn));
  char line[4096];
  while (fgets(line, sizeof line, stdin) != NULL) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "wait ", 5) == 0) {
      wait_for_messages(conn, atoi(line + 5));
    } else {
      PGresult* res = PQexec(conn, line);
      print_result(res);
      PQclear(res);
      print_notifications(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
      printf("closed %s", PQerrorMessage(conn));
      break;
    }
    const char* app = PQparameterStatus(conn, "application_name");
    printf("application_name %s\n", app ? app : "");
  }
  PQfinish(conn);
  return 0;
}
