// The few cryptographic primitives PostgreSQL authentication needs, over OpenSSL's EVP interface.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lms::pgwire {

using Sha256 = std::array<uint8_t, 32>;

Sha256 sha256(std::string_view data);
Sha256 hmac_sha256(std::string_view key, std::string_view data);
Sha256 pbkdf2_sha256(std::string_view password, std::string_view salt, uint32_t iterations);
// Lower-case hex MD5, as PostgreSQL's md5 authentication uses it.
std::string md5_hex(std::string_view data);
std::string base64_encode(std::string_view data);
std::optional<std::string> base64_decode(std::string_view text);
// Cryptographically strong random bytes; false only when the system cannot provide them.
bool random_bytes(uint8_t* out, size_t n);
// Compares without leaking, through timing, where two equal-length strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

inline std::string_view as_view(const Sha256& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace lms::pgwire
