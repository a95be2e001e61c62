/* A prepared-statement client for the integration tests: libmariadb's statement API, so every
 * execution goes over MySQL's binary protocol (COM_STMT_PREPARE / COM_STMT_EXECUTE, binary rows).
 *
 *   mysql_stmt_client PORT USER PASSWORD DATABASE SQL [PARAM...]
 *
 * Prepares SQL once and, for each line read from standard input, executes it with the PARAMs (all
 * bound as strings; "NULL" is NULL) and prints the result: a header line of name:type per column,
 * then one line per row of tab-separated values as the binary protocol delivered them (binary
 * strings in hex), then
 * "ok <affected rows>" or "error <errno> <sqlstate> <message>"; each further result of the same
 * execution (a CALL's) likewise. With LMS_STMT_CURSOR set, results are read through a read-only
 * cursor, one COM_STMT_FETCH per row. Exits 0 at the end of its input,
 * 1 when it cannot connect or prepare (printing why). */
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COLUMNS 64
#define MAX_PARAMS 64

static void print_value(const MYSQL_BIND* b, my_bool is_null, unsigned long length, int binary) {
  if (is_null) {
    fputs("NULL", stdout);
    return;
  }
  switch (b->buffer_type) {
    case MYSQL_TYPE_LONGLONG:
      printf("%lld", *(const long long*)b->buffer);
      break;
    case MYSQL_TYPE_DOUBLE:
      printf("%.17g", *(const double*)b->buffer);
      break;
    case MYSQL_TYPE_DATETIME: {
      const MYSQL_TIME* t = (const MYSQL_TIME*)b->buffer;
      if (t->time_type == MYSQL_TIMESTAMP_DATE) {
        printf("%04u-%02u-%02u", t->year, t->month, t->day);
      } else if (t->time_type == MYSQL_TIMESTAMP_TIME) {
        printf("%s%02u:%02u:%02u.%06lu", t->neg ? "-" : "", t->hour, t->minute, t->second, t->second_part);
      } else {
        printf("%04u-%02u-%02u %02u:%02u:%02u.%06lu", t->year, t->month, t->day, t->hour, t->minute, t->second,
               t->second_part);
      }
      break;
    }
    default:
      if (binary) {  /* bytes, in hex: what a binary string holds is not text */
        fputs("0x", stdout);
        for (unsigned long i = 0; i < length; ++i) printf("%02X", ((const unsigned char*)b->buffer)[i]);
      } else {
        fwrite(b->buffer, 1, length, stdout);
      }
  }
}

static enum enum_field_types bound_type(enum enum_field_types t) {
  switch (t) {
    case MYSQL_TYPE_TINY:
    case MYSQL_TYPE_SHORT:
    case MYSQL_TYPE_LONG:
    case MYSQL_TYPE_INT24:
    case MYSQL_TYPE_LONGLONG:
      return MYSQL_TYPE_LONGLONG;
    case MYSQL_TYPE_FLOAT:
    case MYSQL_TYPE_DOUBLE:
      return MYSQL_TYPE_DOUBLE;
    case MYSQL_TYPE_DATE:
    case MYSQL_TYPE_TIME:
    case MYSQL_TYPE_DATETIME:
    case MYSQL_TYPE_TIMESTAMP:
      return MYSQL_TYPE_DATETIME;
    default:
      return MYSQL_TYPE_STRING;
  }
}

static void print_error(MYSQL_STMT* stmt) {
  printf("error %u %s %s\n", mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
}

/* Prints the statement's current result: its rows, or the affected rows of a result without any. */
static void print_result(MYSQL_STMT* stmt) {
  MYSQL_RES* meta = mysql_stmt_result_metadata(stmt);
  if (meta == NULL) {
    printf("ok %llu\n", (unsigned long long)mysql_stmt_affected_rows(stmt));
    return;
  }
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  if (mysql_stmt_store_result(stmt)) {
    print_error(stmt);
    mysql_free_result(meta);
    return;
  }
  const unsigned n = mysql_num_fields(meta);
  MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  MYSQL_BIND out[MAX_COLUMNS];
  my_bool is_null[MAX_COLUMNS];
  unsigned long length[MAX_COLUMNS];
  void* buffers[MAX_COLUMNS];
  memset(out, 0, sizeof out);
  for (unsigned i = 0; i < n && i < MAX_COLUMNS; ++i) {
    printf("%s%s:%d", i ? "\t" : "", fields[i].name, (int)fields[i].type);
    out[i].buffer_type = bound_type(fields[i].type);
    const size_t size = out[i].buffer_type == MYSQL_TYPE_STRING ? fields[i].max_length + 1 : sizeof(MYSQL_TIME) + 8;
    buffers[i] = calloc(1, size);
    out[i].buffer = buffers[i];
    out[i].buffer_length = size;
    out[i].is_null = &is_null[i];
    out[i].length = &length[i];
  }
  printf("\n");
  mysql_stmt_bind_result(stmt, out);
  while (mysql_stmt_fetch(stmt) == 0) {
    for (unsigned i = 0; i < n && i < MAX_COLUMNS; ++i) {
      if (i) fputs("\t", stdout);
      const int decimal = fields[i].type == MYSQL_TYPE_NEWDECIMAL || fields[i].type == MYSQL_TYPE_DECIMAL;
      print_value(&out[i], is_null[i], length[i], fields[i].charsetnr == 63 && !decimal);
    }
    printf("\n");
  }
  for (unsigned i = 0; i < n && i < MAX_COLUMNS; ++i) free(buffers[i]);
  mysql_free_result(meta);
  mysql_stmt_free_result(stmt);
  printf("ok %llu\n", (unsigned long long)mysql_stmt_num_rows(stmt));
}

static int execute(MYSQL_STMT* stmt, int argc, char** argv) {
  MYSQL_BIND params[MAX_PARAMS];
  my_bool param_null[MAX_PARAMS];
  unsigned long param_length[MAX_PARAMS];
  memset(params, 0, sizeof params);
  for (int i = 0; i < argc && i < MAX_PARAMS; ++i) {
    param_null[i] = strcmp(argv[i], "NULL") == 0;
    param_length[i] = strlen(argv[i]);
    params[i].buffer_type = MYSQL_TYPE_STRING;
    params[i].buffer = argv[i];
    params[i].buffer_length = param_length[i];
    params[i].length = &param_length[i];
    params[i].is_null = &param_null[i];
  }
  if ((argc > 0 && mysql_stmt_bind_param(stmt, params)) || mysql_stmt_execute(stmt)) {
    print_error(stmt);
    return 0;
  }
  /* A CALL answers with a result per SELECT it ran, its OUT parameters, then its own status; an
   * error may end the list anywhere. */
  print_result(stmt);
  int next;
  while ((next = mysql_stmt_next_result(stmt)) == 0) print_result(stmt);
  if (next > 0) print_error(stmt);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 6) {
    fprintf(stderr, "usage: %s PORT USER PASSWORD DATABASE SQL [PARAM...]\n", argv[0]);
    return 2;
  }
  MYSQL* conn = mysql_init(NULL);
  if (!mysql_real_connect(conn, "127.0.0.1", argv[2], argv[3], argv[4], (unsigned)atoi(argv[1]), NULL, 0)) {
    printf("connect error %u %s\n", mysql_errno(conn), mysql_error(conn));
    return 1;
  }
  MYSQL_STMT* stmt = mysql_stmt_init(conn);
  if (getenv("LMS_STMT_CURSOR") != NULL) {
    /* A read-only cursor fetched one row at a time: COM_STMT_FETCH after each row. */
    unsigned long cursor = CURSOR_TYPE_READ_ONLY;
    unsigned long prefetch = 1;
    mysql_stmt_attr_set(stmt, STMT_ATTR_CURSOR_TYPE, &cursor);
    mysql_stmt_attr_set(stmt, STMT_ATTR_PREFETCH_ROWS, &prefetch);
  }
  if (mysql_stmt_prepare(stmt, argv[5], strlen(argv[5]))) {
    printf("prepare error %u %s %s\n", mysql_stmt_errno(stmt), mysql_stmt_sqlstate(stmt), mysql_stmt_error(stmt));
    return 1;
  }
  printf("prepared %lu params\n", mysql_stmt_param_count(stmt));
  fflush(stdout);
  char line[256];
  while (fgets(line, sizeof line, stdin) != NULL) {
    execute(stmt, argc - 6, argv + 6);
    fflush(stdout);
  }
  mysql_stmt_close(stmt);
  mysql_close(conn);
  return 0;
}
