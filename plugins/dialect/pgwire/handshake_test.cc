// The front handshake (the proxy as a server) and the back handshake (the proxy as a client) are
// run against each other through the plugin's C function table, for every authentication method.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dialect.h"
#include "errors.h"
#include "wire.h"

namespace lms::pgwire {
namespace {

const lms_dialect_functions kDialect = make_dialect_functions(5432, Flavor::kPostgres);

struct Capture {
  std::string bytes;
  lms_emitter emitter{sizeof(lms_emitter), this, [](void* ctx, const uint8_t* d, size_t n) {
                        static_cast<Capture*>(ctx)->bytes.append(reinterpret_cast<const char*>(d), n);
                      }};
};

std::vector<lms_kv> kvs(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::vector<lms_kv> out;
  for (const auto& [k, v] : pairs) out.push_back({{k.data(), k.size()}, {v.data(), v.size()}});
  return out;
}

struct Outcome {
  uint32_t front = LMS_HS_NEED_INPUT;
  uint32_t back = LMS_HS_NEED_INPUT;
  std::string back_error;
  std::string back_code;
  std::string back_cancel_key;
  std::vector<std::pair<std::string, std::string>> startup;
};

// Runs a full handshake. `chunk` bytes at most are handed over per step, to exercise every split.
Outcome run(const std::string& method, const std::string& client_password,
            const std::string& client_user = "alice", size_t chunk = 1 << 20) {
  const std::vector<std::pair<std::string, std::string>> front_settings = {
      {"auth_method", method}, {"user", "alice"}, {"password", "s3cret"}};
  const std::vector<std::pair<std::string, std::string>> back_params = {{"user", client_user},
                                                                        {"password", client_password},
                                                                        {"dbname", "shop"},
                                                                        {"host", "db.example"},
                                                                        {"application_name", "app1"}};
  const auto fs = kvs(front_settings);
  const auto bp = kvs(back_params);
  void* front = kDialect.front_create(fs.data(), fs.size());
  void* back = kDialect.back_create(bp.data(), bp.size());
  Capture to_front, to_back;
  kDialect.back_start(back, &to_front.emitter);
  Outcome o;
  const std::string proxy_key = "KEY12345";
  for (int rounds = 0; rounds < 100000 && (o.back == LMS_HS_NEED_INPUT); ++rounds) {
    bool progressed = false;
    if (!to_front.bytes.empty() && o.front == LMS_HS_NEED_INPUT) {
      lms_front_result r{};
      r.struct_size = sizeof r;
      size_t consumed = 0;
      const size_t n = std::min(chunk, to_front.bytes.size());
      // Feed the first n bytes only; what is not consumed stays for the next round.
      o.front = kDialect.front_step(front, reinterpret_cast<const uint8_t*>(to_front.bytes.data()), n,
                                    &consumed, &to_back.emitter, &r);
      to_front.bytes.erase(0, consumed);
      progressed = consumed > 0;
      if (o.front == LMS_HS_DONE) {
        for (size_t i = 0; i < r.startup_param_count; ++i) {
          o.startup.emplace_back(std::string(r.startup_params[i].key.data, r.startup_params[i].key.len),
                                 std::string(r.startup_params[i].value.data, r.startup_params[i].value.len));
        }
        MessageBuilder status;
        const auto welcome = status.begin('S').cstr("server_version").cstr("15.0").end().take();
        kDialect.front_finish(front, welcome.data(), welcome.size(),
                              reinterpret_cast<const uint8_t*>(proxy_key.data()), proxy_key.size(),
                              &to_back.emitter);
      }
      if (consumed < n) chunk = std::max(chunk, consumed + 1);  // a split header: grow the feed
    }
    if (!to_back.bytes.empty()) {
      lms_back_result r{};
      r.struct_size = sizeof r;
      size_t consumed = 0;
      const size_t n = std::min(chunk, to_back.bytes.size());
      o.back = kDialect.back_step(back, reinterpret_cast<const uint8_t*>(to_back.bytes.data()), n, &consumed,
                                  &to_front.emitter, &r);
      to_back.bytes.erase(0, consumed);
      progressed |= consumed > 0;
      if (o.back == LMS_HS_FAILED) {
        o.back_error = r.error;
        o.back_code = r.error_code;
      }
      if (o.back == LMS_HS_DONE)
        o.back_cancel_key.assign(reinterpret_cast<const char*>(r.cancel_key), r.cancel_key_len);
    }
    if (!progressed && (o.front != LMS_HS_NEED_INPUT || to_front.bytes.empty()) && to_back.bytes.empty())
      break;
    if (!progressed) ++chunk;
  }
  kDialect.front_destroy(front);
  kDialect.back_destroy(back);
  return o;
}

class EveryMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(EveryMethod, RightPasswordLogsIn) {
  const Outcome o = run(GetParam(), "s3cret");
  EXPECT_EQ(o.front, LMS_HS_DONE);
  EXPECT_EQ(o.back, LMS_HS_DONE) << o.back_error;
  EXPECT_EQ(o.back_cancel_key, "KEY12345");
  // The client's startup parameters reach the front: user, database (from dbname), the rest.
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"user", "alice"}, {"database", "shop"}, {"application_name", "app1"}};
  EXPECT_EQ(o.startup, expected);
}

TEST_P(EveryMethod, RightPasswordLogsInOneByteAtATime) {
  const Outcome o = run(GetParam(), "s3cret", "alice", 1);
  EXPECT_EQ(o.front, LMS_HS_DONE);
  EXPECT_EQ(o.back, LMS_HS_DONE) << o.back_error;
}

INSTANTIATE_TEST_SUITE_P(Auth, EveryMethod, ::testing::Values("trust", "password", "md5", "scram-sha-256"));

class PasswordMethod : public ::testing::TestWithParam<std::string> {};

TEST_P(PasswordMethod, WrongPasswordIsRefusedWithSqlstate28P01) {
  const Outcome o = run(GetParam(), "guess");
  EXPECT_EQ(o.front, LMS_HS_FAILED);
  EXPECT_EQ(o.back, LMS_HS_FAILED);
  EXPECT_EQ(o.back_code, "28P01");
  EXPECT_EQ(o.back_error, "password authentication failed for user \"alice\"");
}

TEST_P(PasswordMethod, UnknownUserIsRefusedLikeAWrongPassword) {
  const Outcome o = run(GetParam(), "s3cret", "mallory");
  EXPECT_EQ(o.back, LMS_HS_FAILED);
  EXPECT_EQ(o.back_error, "password authentication failed for user \"mallory\"");
}

INSTANTIATE_TEST_SUITE_P(Auth, PasswordMethod, ::testing::Values("password", "md5", "scram-sha-256"));

// --- the front alone, on raw client bytes ----------------------------------------------------------

struct FrontRun {
  uint32_t status;
  size_t consumed;
  std::string reply;
  std::string cancel_key;
};

FrontRun front_on(const std::vector<uint8_t>& bytes) {
  const std::vector<std::pair<std::string, std::string>> settings = {{"auth_method", "trust"},
                                                                     {"user", "alice"}};
  const auto s = kvs(settings);
  void* front = kDialect.front_create(s.data(), s.size());
  Capture out;
  lms_front_result r{};
  r.struct_size = sizeof r;
  FrontRun run{};
  run.status = kDialect.front_step(front, bytes.data(), bytes.size(), &run.consumed, &out.emitter, &r);
  run.reply = out.bytes;
  if (run.status == LMS_HS_CANCEL)
    run.cancel_key.assign(reinterpret_cast<const char*>(r.cancel_key), r.cancel_key_len);
  kDialect.front_destroy(front);
  return run;
}

std::vector<uint8_t> startup(uint32_t code, std::string_view body = "") {
  MessageBuilder m;
  return m.begin_untyped().u32(code).raw(body).end().take();
}

std::string sqlstate_of(const std::string& reply) {
  if (reply.empty() || reply[0] != 'E') return {};
  return parse_error_fields(reinterpret_cast<const uint8_t*>(reply.data()) + 5, reply.size() - 5).code;
}

TEST(FrontHandshake, SslAndGssEncRequestsAreAnsweredNo) {
  for (uint32_t code : {kSslRequestCode, kGssEncRequestCode}) {
    const FrontRun r = front_on(startup(code));
    EXPECT_EQ(r.status, LMS_HS_NEED_INPUT);
    EXPECT_EQ(r.reply, "N");
    EXPECT_EQ(r.consumed, 8u);
  }
}

TEST(FrontHandshake, CancelRequestYieldsTheKey) {
  const FrontRun r = front_on(startup(kCancelRequestCode, "ABCDEFGH"));
  EXPECT_EQ(r.status, LMS_HS_CANCEL);
  EXPECT_EQ(r.cancel_key, "ABCDEFGH");
}

TEST(FrontHandshake, TruncatedStartupWaits) {
  auto bytes = startup(kProtocolV3, std::string("user\0alice\0\0", 12));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const FrontRun r = front_on({bytes.begin(), bytes.begin() + static_cast<long>(n)});
    EXPECT_EQ(r.status, LMS_HS_NEED_INPUT) << n;
    EXPECT_EQ(r.consumed, 0u) << n;
  }
  EXPECT_EQ(front_on(bytes).status, LMS_HS_DONE);
}

TEST(FrontHandshake, GarbageAndOversizedStartupAreProtocolErrors) {
  EXPECT_EQ(sqlstate_of(front_on({0, 0, 0, 3, 1, 2, 3}).reply), "08P01");                     // too short
  EXPECT_EQ(sqlstate_of(front_on({0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0}).reply), "08P01");      // too long
  EXPECT_EQ(sqlstate_of(front_on({'G', 'E', 'T', ' ', '/', ' ', 'H', 'T'}).reply), "08P01");  // HTTP
  const FrontRun bad_layout = front_on(startup(kProtocolV3, std::string("user\0alice", 10)));
  EXPECT_EQ(bad_layout.status, LMS_HS_FAILED);
  EXPECT_EQ(sqlstate_of(bad_layout.reply), "08P01");
  EXPECT_EQ(sqlstate_of(front_on(startup(2 << 16, std::string("user\0a\0\0", 8))).reply), "0A000");
  EXPECT_EQ(sqlstate_of(front_on(startup(kProtocolV3, std::string("database\0d\0\0", 12))).reply), "28000");
}

TEST(FrontHandshake, NewerMinorProtocolIsNegotiatedDown) {
  const FrontRun r = front_on(startup(kProtocolV3 | 2, std::string("user\0alice\0_pq_.x\0y\0\0", 21)));
  EXPECT_EQ(r.status, LMS_HS_DONE);
  ASSERT_FALSE(r.reply.empty());
  EXPECT_EQ(r.reply[0], 'v');
  EXPECT_NE(r.reply.find("_pq_.x"), std::string::npos);
}

TEST(FrontHandshake, TerminateDuringAuthenticationCloses) {
  const std::vector<std::pair<std::string, std::string>> settings = {
      {"auth_method", "password"}, {"user", "alice"}, {"password", "pw"}};
  const auto s = kvs(settings);
  void* front = kDialect.front_create(s.data(), s.size());
  Capture out;
  lms_front_result r{};
  r.struct_size = sizeof r;
  size_t consumed = 0;
  auto bytes = startup(kProtocolV3, std::string("user\0alice\0\0", 12));
  bytes.insert(bytes.end(), {'X', 0, 0, 0, 4});
  EXPECT_EQ(kDialect.front_step(front, bytes.data(), bytes.size(), &consumed, &out.emitter, &r),
            LMS_HS_CLOSE);
  kDialect.front_destroy(front);
}

TEST(Errors, EncodedErrorReadsBack) {
  const auto bytes = error_response("FATAL", "08006", "lost it");
  ASSERT_EQ(bytes[0], 'E');
  EXPECT_EQ(read_u32(bytes.data() + 1) + 1, bytes.size());
  const ServerError e = parse_error_fields(bytes.data() + 5, bytes.size() - 5);
  EXPECT_EQ(e.severity, "FATAL");
  EXPECT_EQ(e.code, "08006");
  EXPECT_EQ(e.message, "lost it");
}

TEST(ConnectionString, BothLibpqFormsAndTheDocumentedDoubleQuestionMark) {
  auto parse = [](const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    char error[256] = {};
    const uint32_t st = kDialect.parse_connection_string(
        text.data(), text.size(), &out,
        [](void* ctx, lms_str k, lms_str v) {
          static_cast<std::vector<std::pair<std::string, std::string>>*>(ctx)->emplace_back(
              std::string(k.data, k.len), std::string(v.data, v.len));
        },
        error, sizeof error);
    return std::make_pair(st, out);
  };
  const auto url =
      parse("postgresql://u:p%40ss@db.example:6543/shop?sslmode=verify-full?sslrootcert=/ca.crt");
  ASSERT_EQ(url.first, LMS_OK);
  auto has = [](const auto& kv, const std::string& k, const std::string& v) {
    for (const auto& [a, b] : kv) {
      if (a == k) return b == v;
    }
    return false;
  };
  EXPECT_TRUE(has(url.second, "user", "u"));
  EXPECT_TRUE(has(url.second, "password", "p@ss"));
  EXPECT_TRUE(has(url.second, "host", "db.example"));
  EXPECT_TRUE(has(url.second, "port", "6543"));
  EXPECT_TRUE(has(url.second, "dbname", "shop"));
  EXPECT_TRUE(has(url.second, "sslmode", "verify-full"));
  EXPECT_TRUE(has(url.second, "sslrootcert", "/ca.crt"));
  const auto kv = parse("host=127.0.0.1 port=5 user=x password='a b' dbname=d");
  ASSERT_EQ(kv.first, LMS_OK);
  EXPECT_TRUE(has(kv.second, "password", "a b"));
  EXPECT_EQ(parse("host=x port").first, LMS_ERR_INVALID);
  EXPECT_EQ(parse("postgresql://x/?nosuchoption=1").first, LMS_ERR_INVALID);
}

}  // namespace
}  // namespace lms::pgwire
