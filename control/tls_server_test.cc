#include "tls_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

namespace lms::control {
namespace {

httplib::Request from(const std::string& address) {
  httplib::Request req;
  req.remote_addr = address;
  return req;
}

TEST(ControlAccess, WithoutTlsOnlyThisMachineUnlessInsecureIsAllowed) {
  const ControlAccess plain{false, false, false};
  EXPECT_EQ(plain.refuse(from("127.0.0.1")), "");
  EXPECT_EQ(plain.refuse(from("127.0.0.2")), "");
  EXPECT_EQ(plain.refuse(from("::1")), "");
  EXPECT_EQ(plain.refuse(from("::ffff:127.0.0.1")), "");
  EXPECT_NE(plain.refuse(from("10.1.2.3")), "");
  EXPECT_NE(plain.refuse(from("::ffff:10.1.2.3")), "");
  EXPECT_NE(plain.refuse(from("1270.0.0.1")), "");
  const ControlAccess insecure{false, false, true};
  EXPECT_EQ(insecure.refuse(from("10.1.2.3")), "");
}

TEST(ControlAccess, ClientCertificatesAreRequiredEvenFromThisMachine) {
  const ControlAccess mutual{true, true, false};
  // A request that did not come over TLS with a verified certificate (here: no TLS at all).
  EXPECT_NE(mutual.refuse(from("127.0.0.1")), "");
  const ControlAccess server_only{true, false, false};
  EXPECT_EQ(server_only.refuse(from("10.1.2.3")), "");
}

TEST(TlsServer, RefusesMissingFiles) {
  std::string error;
  EXPECT_EQ(make_http_server({"/nonexistent.crt", "/nonexistent.key", ""}, &error), nullptr);
  EXPECT_NE(error.find("/nonexistent.crt"), std::string::npos) << error;
  error.clear();
  EXPECT_EQ(make_http_server({"/nonexistent.crt", "", ""}, &error), nullptr);
  EXPECT_NE(error.find("both a certificate and a key"), std::string::npos) << error;
  EXPECT_NE(make_http_server({}, &error), nullptr);  // plain HTTP
}

}  // namespace
}  // namespace lms::control
