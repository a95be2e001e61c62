// MySQL's password exchanges, as both the server (to clients) and the client (to databases):
// mysql_native_password and caching_sha2_password, over a 20-byte nonce ("scramble") the server
// sends. The password itself never crosses the wire in either.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lms::mysql {

inline constexpr const char* kNativePassword = "mysql_native_password";
inline constexpr const char* kCachingSha2 = "caching_sha2_password";
inline constexpr size_t kNonceSize = 20;

// SHA1(password) XOR SHA1(nonce + SHA1(SHA1(password))); empty for an empty password.
std::string native_password_proof(std::string_view password, std::string_view nonce);
// SHA256(password) XOR SHA256(SHA256(SHA256(password)) + nonce); empty for an empty password.
std::string caching_sha2_proof(std::string_view password, std::string_view nonce);
// The proof `plugin` expects; empty when the plugin is unknown.
std::string password_proof(std::string_view plugin, std::string_view password, std::string_view nonce);

// caching_sha2_password's full authentication without TLS: the password, NUL-terminated, XORed
// with the nonce, RSA-encrypted (OAEP) with the server's public key (PEM). Empty on failure.
std::string rsa_encrypted_password(std::string_view password, std::string_view nonce,
                                   std::string_view public_key_pem);

// mysql_native_password pass-through: a server keeps SHA1(SHA1(password)) ("*" and 40 hex digits in
// mysql.user's authentication_string; "" for an empty password). Parsed: the raw 20 bytes, "" for
// the empty password; nullopt when the text is neither.
std::optional<std::string> parse_native_hash(std::string_view stored);
// A client's proof for `nonce` checked against SHA1(SHA1(password)) (`stage2`, raw): SHA1(password)
// when it matches ("" for the empty password), else nullopt.
std::optional<std::string> native_stage1(std::string_view proof, std::string_view nonce,
                                         std::string_view stage2);
// The proof for `nonce` from SHA1(password) alone; empty for the empty password.
std::string native_proof_from_stage1(std::string_view stage1, std::string_view nonce);

bool random_nonce(std::string* out);  // kNonceSize printable bytes, none NUL
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace lms::mysql
