#include "scram.h"

#include <gtest/gtest.h>

namespace lms::pgwire {
namespace {

// RFC 7677, section 3: user "user", password "pencil".
constexpr const char* kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr const char* kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr const char* kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr const char* kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr const char* kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

TEST(Scram, ClientMatchesRfc7677) {
  ScramClient client("pencil", "user", kClientNonce);
  EXPECT_EQ(client.client_first(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  std::string error;
  const auto final_message = client.on_server_first(kServerFirst, &error);
  ASSERT_TRUE(final_message) << error;
  EXPECT_EQ(*final_message, kClientFinal);
  EXPECT_TRUE(client.on_server_final(kServerFinal, &error)) << error;
}

TEST(Scram, ServerMatchesRfc7677) {
  const auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt);
  const ScramVerifier verifier = make_scram_verifier("pencil", *salt, 4096);
  ScramServer server(verifier, kServerNonce);
  std::string error;
  const auto first = server.on_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", &error);
  ASSERT_TRUE(first) << error;
  EXPECT_EQ(*first, kServerFirst);
  const auto final_message = server.on_client_final(kClientFinal, &error);
  ASSERT_TRUE(final_message) << error;
  EXPECT_EQ(*final_message, kServerFinal);
}

TEST(Scram, TheKeysAClientsProofYieldsLogInWithoutThePassword) {
  // The RFC's exchange, the proxy as the server: its client's proof gives up the ClientKey.
  const auto salt = base64_decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt);
  const ScramVerifier verifier = make_scram_verifier("pencil", *salt, 4096);
  ScramServer front(verifier, kServerNonce);
  std::string error;
  ASSERT_TRUE(front.on_client_first("n,,n=user,r=rOprNGfwEbeRWgbNEkqO", &error));
  ASSERT_TRUE(front.on_client_final(kClientFinal, &error)) << error;
  // The same proxy as the client of a database holding that verifier: the keys prove the user
  // to it, and its signature proves the database to the proxy.
  ScramServer database(verifier);
  ScramClient back = ScramClient::with_keys(front.client_key(), verifier.server_key);
  const auto first = database.on_client_first(back.client_first(), &error);
  ASSERT_TRUE(first) << error;
  const auto final_message = back.on_server_first(*first, &error);
  ASSERT_TRUE(final_message) << error;
  const auto server_final = database.on_client_final(*final_message, &error);
  ASSERT_TRUE(server_final) << error;
  EXPECT_TRUE(back.on_server_final(*server_final, &error)) << error;
  // A database holding another verifier for the user (another password) refuses the proof.
  const ScramVerifier another = make_scram_verifier("another", *salt, 4096);
  ScramServer elsewhere(another);
  ScramClient refused = ScramClient::with_keys(front.client_key(), verifier.server_key);
  const auto other_first = elsewhere.on_client_first(refused.client_first(), &error);
  ASSERT_TRUE(other_first);
  const auto other_final = refused.on_server_first(*other_first, &error);
  ASSERT_TRUE(other_final);
  EXPECT_FALSE(elsewhere.on_client_final(*other_final, &error));
}

TEST(Scram, WrongPasswordIsRefusedByTheServer) {
  const ScramVerifier verifier = make_scram_verifier("right", "0123456789abcdef", 4096);
  ScramServer server(verifier);
  ScramClient client("wrong");
  std::string error;
  const auto first = server.on_client_first(client.client_first(), &error);
  ASSERT_TRUE(first);
  const auto final_message = client.on_server_first(*first, &error);
  ASSERT_TRUE(final_message);
  EXPECT_FALSE(server.on_client_final(*final_message, &error));
  EXPECT_EQ(error, "wrong password");
}

TEST(Scram, ServerThatDoesNotKnowThePasswordIsRefusedByTheClient) {
  ScramClient client("pencil", "user", kClientNonce);
  std::string error;
  ASSERT_TRUE(client.on_server_first(kServerFirst, &error));
  EXPECT_FALSE(client.on_server_final("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", &error));
  EXPECT_NE(error.find("signature"), std::string::npos);
}

TEST(Scram, ServerAskingForTooManyIterationsIsRefused) {
  // Found by fuzz_scram: 130 million PBKDF2 rounds would stall a worker loop for minutes.
  ScramClient client("pw", "", "clientnonce");
  std::string error;
  EXPECT_FALSE(client.on_server_first("r=clientnonceX,s=cA==,i=130130885", &error));
  EXPECT_EQ(error, "the server asks for 130130885 SCRAM iterations; LMS accepts at most 100000");
  ScramClient again("pw", "", "clientnonce");
  EXPECT_TRUE(again.on_server_first("r=clientnonceX,s=cA==,i=100000", &error)) << error;
}

TEST(Scram, MalformedMessagesAreErrors) {
  const ScramVerifier verifier = make_scram_verifier("pw", "salt", 4096);
  std::string error;
  for (const char* bad : {"", "n", "n,,", "n,,r=abc", "p=tls-unique,,n=,r=abc", "x,,n=,r=abc", "n,,n=,r="}) {
    ScramServer server(verifier);
    EXPECT_FALSE(server.on_client_first(bad, &error)) << bad;
  }
  ScramClient client("pw");
  for (const char* bad : {"", "r=x", "r=other,s=c2FsdA==,i=4096", "r=,s=,i=", "garbage,,,"}) {
    EXPECT_FALSE(client.on_server_first(bad, &error)) << bad;
  }
}

}  // namespace
}  // namespace lms::pgwire

namespace lms::pgwire {
namespace {

TEST(ScramVerifierText, ParsesPostgresStoredFormAndRefusesAnythingElse) {
  const ScramVerifier made = make_scram_verifier("pencil", "salt-bytes", 4096);
  const std::string text = "SCRAM-SHA-256$4096:" + base64_encode(made.salt) + "$" +
                           base64_encode({reinterpret_cast<const char*>(made.stored_key.data()), made.stored_key.size()}) +
                           ":" +
                           base64_encode({reinterpret_cast<const char*>(made.server_key.data()), made.server_key.size()});
  const auto parsed = parse_scram_verifier(text);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->iterations, 4096u);
  EXPECT_EQ(parsed->salt, "salt-bytes");
  EXPECT_EQ(parsed->stored_key, made.stored_key);
  EXPECT_EQ(parsed->server_key, made.server_key);
  for (const char* bad : {"", "pencil", "md5abc", "SCRAM-SHA-256$0:c2FsdA==$AAAA:AAAA", "SCRAM-SHA-256$4096:c2FsdA==$AAAA:AAAA",
                          "SCRAM-SHA-256$x:c2FsdA==$AAAA:AAAA", "SCRAM-SHA-256$4096:c2FsdA=="}) {
    EXPECT_FALSE(parse_scram_verifier(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace lms::pgwire
