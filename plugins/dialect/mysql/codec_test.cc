// The MySQL dialect's codecs: connection strings, password proofs (against values computed
// independently), statement normalization, error mapping, and the two handshakes talking to each
// other (lms's server side accepting lms's client side).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "auth.h"
#include "back_handshake.h"
#include "connection_string.h"
#include "errors.h"
#include "front_handshake.h"
#include "held_state.h"
#include "normalize.h"
#include "wire.h"

namespace lms::mysql {
namespace {

std::map<std::string, std::string> parse(const std::string& text, std::string* error = nullptr) {
  std::map<std::string, std::string> out;
  const std::string e = parse_connection_string(
      text, [&](std::string_view k, std::string_view v) { out[std::string(k)] = std::string(v); });
  if (error != nullptr) *error = e;
  return out;
}

std::string hex(const std::string& s) {
  static const char* k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

TEST(MysqlConnectionString, EveryDocumentedForm) {
  using M = std::map<std::string, std::string>;
  EXPECT_EQ(parse("mysql://app:p%40ss@db.example:3307/shop?sslmode=verify-full&sslrootcert=/ca.pem"),
            (M{{"user", "app"},
               {"password", "p@ss"},
               {"host", "db.example"},
               {"port", "3307"},
               {"dbname", "shop"},
               {"sslmode", "verify-full"},
               {"sslrootcert", "/ca.pem"}}));
  EXPECT_EQ(parse("app:secret@tcp(10.0.0.5:3306)/shop?tls=skip-verify&parseTime=true"),
            (M{{"user", "app"},
               {"password", "secret"},
               {"host", "10.0.0.5"},
               {"port", "3306"},
               {"dbname", "shop"},
               {"sslmode", "require"}}));
  EXPECT_EQ(parse("app:s3cr@t@(lms.ns.svc.cluster.local:9043)/shop"), (M{{"user", "app"},
                                                                         {"password", "s3cr@t"},
                                                                         {"host", "lms.ns.svc.cluster.local"},
                                                                         {"port", "9043"},
                                                                         {"dbname", "shop"}}));
  // The documentation chains a second parameter with '?'.
  EXPECT_EQ(parse("mysql://u:p@h:1/d?sslmode=verify-full?sslrootcert=a.ca&sslcert=c.crt&sslkey=c.key"),
            (M{{"user", "u"},
               {"password", "p"},
               {"host", "h"},
               {"port", "1"},
               {"dbname", "d"},
               {"sslmode", "verify-full"},
               {"sslrootcert", "a.ca"},
               {"sslcert", "c.crt"},
               {"sslkey", "c.key"}}));
  EXPECT_EQ(parse("mysql://u@[::1]:3306/d?ssl-mode=VERIFY_IDENTITY&ssl-ca=/x")["sslmode"], "verify-full");
  EXPECT_EQ(parse("host=h port=5 user=u password=p dbname=d")["port"], "5");
}

TEST(MysqlConnectionString, ClearErrorsWithoutThePassword) {
  std::string error;
  parse("app:hunter2@tcp(h:99999)/d", &error);
  EXPECT_EQ(error, "invalid port \"99999\"");
  parse("app:hunter2@h:1/d", &error);
  EXPECT_NE(error.find("(host:port)"), std::string::npos);
  EXPECT_EQ(error.find("hunter2"), std::string::npos);
  parse("mysql://u:p@h/d?ssl-mode=SOMETIMES", &error);
  EXPECT_NE(error.find("ssl-mode must be"), std::string::npos);
  parse("mysql://u:%zz@h/d", &error);
  EXPECT_EQ(error, "invalid percent-encoding in the password");
}

TEST(MysqlAuth, ProofsMatchIndependentComputation) {
  // hashlib: SHA1(pw) ^ SHA1(nonce + SHA1(SHA1(pw))), SHA256(pw) ^ SHA256(SHA256(SHA256(pw)) + nonce).
  const std::string nonce = "0123456789abcdefghij";
  EXPECT_EQ(hex(native_password_proof("secret", nonce)), "f5cac3f3b3df2133feb57db682c71e6ed433a988");
  EXPECT_EQ(hex(caching_sha2_proof("secret", nonce)),
            "7e4adda2f2d5ef09b4147518becb0cee2939376203650a8c2bb2815959364bd0");
  EXPECT_EQ(native_password_proof("", nonce), "");
  std::string a, b;
  ASSERT_TRUE(random_nonce(&a) && random_nonce(&b));
  EXPECT_EQ(a.size(), kNonceSize);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find('\0'), std::string::npos);
}

TEST(MysqlNormalize, LiteralsGoNamesStay) {
  EXPECT_EQ(
      normalize_sql("SELECT * FROM t1 WHERE id = 42 AND name = 'o''brien' -- who\n AND x IN (1.5, -3e2)"),
      "SELECT * FROM t1 WHERE id = ? AND name = ? AND x IN (?, -?)");
  EXPECT_EQ(normalize_sql("INSERT INTO `order` VALUES (\"a\\\"b\", X'ff', 0x1F, b'101') # c"),
            "INSERT INTO `order` VALUES (?, ?, ?, ?)");
  EXPECT_EQ(normalize_sql("ALTER USER app IDENTIFIED BY 'hunter2' /* secret */"),
            "ALTER USER app IDENTIFIED BY ?");
  EXPECT_EQ(normalize_sql("SELECT col_2, t3.c FROM t3"), "SELECT col_2, t3.c FROM t3");
}

TEST(MysqlErrors, CoreStatesAndNativeCodes) {
  EXPECT_EQ(map_error("53300").code, 1040);
  EXPECT_EQ(map_error("57P01").code, 1053);
  EXPECT_EQ(map_error("28000").sqlstate, "28000");
  const MysqlError native = map_error(native_error_code(1044, "42000"));
  EXPECT_EQ(native.code, 1044);
  EXPECT_EQ(native.sqlstate, "42000");
  EXPECT_EQ(map_error("XX000").code, 1105);
  const std::string p = err_packet(1045, "28000", "denied", 2);
  EXPECT_EQ(p.substr(0, 4), std::string("\x0f\x00\x00\x02", 4));
  EXPECT_EQ(p.substr(4), std::string("\xff\x15\x04#28000denied", 15));
}

struct Pipe {
  std::string bytes;
  lms_emitter emitter() {
    return {sizeof(lms_emitter), this, [](void* ctx, const uint8_t* d, size_t n) {
              static_cast<Pipe*>(ctx)->bytes.append(reinterpret_cast<const char*>(d), n);
            }};
  }
};

// lms's client side logs in to lms's server side; both are driven to the end.
// `front_tls` is the server side's tls setting, `sslmode` the client side's; TLS itself is not
// run here (the core does that), only the packets around it, and *tls_starts counts the switches.
uint32_t login(const std::string& method, const std::string& server_password,
               const std::string& client_password, std::string* client_error = nullptr,
               const std::string& front_tls = "off", const std::string& sslmode = "prefer",
               int* tls_starts = nullptr) {
  const std::string user = "app";
  const lms_kv settings[] = {{{"user", 4}, {user.data(), user.size()}},
                             {{"password", 8}, {server_password.data(), server_password.size()}},
                             {{"auth_method", 11}, {method.data(), method.size()}},
                             {{"tls", 3}, {front_tls.data(), front_tls.size()}}};
  FrontHandshake server(settings, 4);
  const std::string caps = std::to_string(offered_capabilities());
  const lms_kv params[] = {{{"user", 4}, {user.data(), user.size()}},
                           {{"password", 8}, {client_password.data(), client_password.size()}},
                           {{"capabilities", 12}, {caps.data(), caps.size()}},
                           {{"sslmode", 7}, {sslmode.data(), sslmode.size()}}};
  BackHandshake client(params, 4);
  int starts = 0;
  Pipe to_client, to_server;
  lms_emitter server_out = to_client.emitter();
  lms_emitter client_out = to_server.emitter();
  lms_front_result front_result{};
  lms_back_result back_result{};
  size_t consumed = 0;
  uint32_t front = server.step(nullptr, 0, &consumed, &server_out, &front_result);
  uint32_t back = LMS_HS_NEED_INPUT;
  for (int round = 0; round < 10; ++round) {
    if (!to_client.bytes.empty() && back == LMS_HS_NEED_INPUT) {
      back = client.step(reinterpret_cast<const uint8_t*>(to_client.bytes.data()), to_client.bytes.size(),
                         &consumed, &client_out, &back_result);
      to_client.bytes.erase(0, consumed);
    }
    if (!to_server.bytes.empty() && front == LMS_HS_NEED_INPUT) {
      front = server.step(reinterpret_cast<const uint8_t*>(to_server.bytes.data()), to_server.bytes.size(),
                          &consumed, &server_out, &front_result);
      to_server.bytes.erase(0, consumed);
      if (front == LMS_HS_DONE) server.finish(&server_out);
    }
    if (front == LMS_HS_START_TLS && back == LMS_HS_START_TLS) {
      // Both ends agree; "TLS is up", and the client side goes on with no input, as the core calls it.
      ++starts;
      front = LMS_HS_NEED_INPUT;
      back = client.step(nullptr, 0, &consumed, &client_out, &back_result);
    }
    if (back != LMS_HS_NEED_INPUT && back != LMS_HS_START_TLS) break;
  }
  if (client_error != nullptr && back_result.error != nullptr) *client_error = back_result.error;
  if (tls_starts != nullptr) *tls_starts = starts;
  if (client_error != nullptr && back == LMS_HS_DONE && front != LMS_HS_DONE)
    *client_error = "server side not done";
  return back;
}

TEST(MysqlHandshakes, LmsClientSideLogsInToLmsServerSide) {
  EXPECT_EQ(login("scram-sha-256", "pw", "pw"), LMS_HS_DONE);  // caching_sha2_password
  EXPECT_EQ(login("md5", "pw", "pw"), LMS_HS_DONE);            // mysql_native_password
  EXPECT_EQ(login("scram-sha-256", "", ""), LMS_HS_DONE);
  std::string error;
  EXPECT_EQ(login("scram-sha-256", "pw", "wrong", &error), LMS_HS_FAILED);
  EXPECT_NE(error.find("Access denied for user 'app'"), std::string::npos) << error;
  EXPECT_EQ(login("md5", "pw", "", &error), LMS_HS_FAILED);
  EXPECT_NE(error.find("using password: NO"), std::string::npos) << error;
}

TEST(MysqlHandshakes, TlsIsAskedForWhenOfferedAndRequiredWhenConfigured) {
  std::string error;
  int starts = -1;
  // Offered and wanted: an SSLRequest, TLS, then the login inside it.
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "on", "require", &starts), LMS_HS_DONE) << error;
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(login("md5", "pw", "pw", &error, "require", "verify-full", &starts), LMS_HS_DONE) << error;
  EXPECT_EQ(starts, 1);
  // prefer takes TLS when offered and goes without when not; disable never asks.
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "on", "prefer", &starts), LMS_HS_DONE) << error;
  EXPECT_EQ(starts, 1);
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "off", "prefer", &starts), LMS_HS_DONE) << error;
  EXPECT_EQ(starts, 0);
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "on", "disable", &starts), LMS_HS_DONE) << error;
  EXPECT_EQ(starts, 0);
  // require against a server that offers nothing: refused before any password is sent.
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "off", "require", &starts), LMS_HS_FAILED);
  EXPECT_NE(error.find("sslmode=require but the database offers no TLS"), std::string::npos) << error;
  // A server that requires TLS refuses a plain login with MySQL's own error.
  EXPECT_EQ(login("scram-sha-256", "pw", "pw", &error, "require", "disable", &starts), LMS_HS_FAILED);
  EXPECT_NE(error.find("insecure transport are prohibited"), std::string::npos) << error;
}

TEST(MysqlHandshakes, GarbageFromAClientFailsCleanly) {
  const lms_kv settings[] = {{{"user", 4}, {"app", 3}}, {{"password", 8}, {"pw", 2}}};
  for (const std::string& junk : {std::string("\x05\x00\x00\x01hello", 9), std::string("\xff\xff\xff\x01", 4),
                                  std::string("\x01\x00\x00\x01\x00", 5)}) {
    FrontHandshake server(settings, 2);
    Pipe out;
    lms_emitter e = out.emitter();
    lms_front_result result{};
    size_t consumed = 0;
    server.step(nullptr, 0, &consumed, &e, &result);
    const uint32_t status =
        server.step(reinterpret_cast<const uint8_t*>(junk.data()), junk.size(), &consumed, &e, &result);
    EXPECT_TRUE(status == LMS_HS_FAILED || status == LMS_HS_NEED_INPUT) << status;
    if (status == LMS_HS_FAILED) {
      EXPECT_NE(result.error, nullptr);
    }
  }
}

TEST(HeldState, TemporaryTablesAndNamedLocks) {
  struct Case {
    const char* sql;
    lms_state_effect effect;
    const char* kind;
  };
  const Case cases[] = {
      {"CREATE TEMPORARY TABLE t (a INT)", LMS_EFFECT_HOLDS, "temporary table"},
      {"  /* app */ create temporary table if not exists t (a INT)", LMS_EFFECT_HOLDS, "temporary table"},
      {"CREATE TABLE t (a INT)", LMS_EFFECT_NONE, ""},
      {"SELECT GET_LOCK('job', 10)", LMS_EFFECT_HOLDS, "named lock"},
      {"select get_lock ('job', 0)", LMS_EFFECT_HOLDS, "named lock"},
      {"SELECT my_get_lock('job')", LMS_EFFECT_NONE, ""},
      {"SELECT RELEASE_ALL_LOCKS()", LMS_EFFECT_RELEASES, "named lock"},
      {"SELECT 'get_lock' AS word", LMS_EFFECT_NONE, ""},
      {"", LMS_EFFECT_NONE, ""},
  };
  for (const auto& c : cases) {
    std::string_view kind;
    EXPECT_EQ(classify_held(c.sql, &kind), c.effect) << c.sql;
    EXPECT_EQ(kind, c.kind) << c.sql;
  }
}

}  // namespace
}  // namespace lms::mysql
