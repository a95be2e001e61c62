#include "auth.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <memory>

namespace lms::mysql {
namespace {

std::string digest(const EVP_MD* md, std::string_view a, std::string_view b = {}) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    return {};
  }
  return {reinterpret_cast<const char*>(out), len};
}

std::string xor_bytes(std::string a, std::string_view b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) a[i] = static_cast<char>(a[i] ^ b[i]);
  return a;
}

}  // namespace

std::string native_password_proof(std::string_view password, std::string_view nonce) {
  if (password.empty()) return {};
  const std::string stage1 = digest(EVP_sha1(), password);
  const std::string stage2 = digest(EVP_sha1(), stage1);
  return xor_bytes(stage1, digest(EVP_sha1(), nonce.substr(0, kNonceSize), stage2));
}

std::optional<std::string> parse_native_hash(std::string_view stored) {
  if (stored.empty()) return std::string();
  if (stored.size() != 41 || stored[0] != '*') return std::nullopt;
  std::string raw;
  for (size_t i = 1; i < stored.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    const int hi = nibble(stored[i]);
    const int lo = nibble(stored[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    raw.push_back(static_cast<char>(hi * 16 + lo));
  }
  return raw;
}

std::optional<std::string> native_stage1(std::string_view proof, std::string_view nonce,
                                         std::string_view stage2) {
  if (stage2.empty()) {  // the empty password: no proof at all
    if (proof.empty()) return std::string();
    return std::nullopt;
  }
  if (proof.size() != 20) return std::nullopt;
  const std::string stage1 =
      xor_bytes(std::string(proof), digest(EVP_sha1(), nonce.substr(0, kNonceSize), stage2));
  if (!constant_time_equal(digest(EVP_sha1(), stage1), stage2)) return std::nullopt;
  return stage1;
}

std::string native_proof_from_stage1(std::string_view stage1, std::string_view nonce) {
  if (stage1.empty()) return {};
  const std::string stage2 = digest(EVP_sha1(), stage1);
  return xor_bytes(std::string(stage1), digest(EVP_sha1(), nonce.substr(0, kNonceSize), stage2));
}

std::string caching_sha2_proof(std::string_view password, std::string_view nonce) {
  if (password.empty()) return {};
  const std::string stage1 = digest(EVP_sha256(), password);
  const std::string stage2 = digest(EVP_sha256(), stage1);
  return xor_bytes(stage1, digest(EVP_sha256(), stage2, nonce.substr(0, kNonceSize)));
}

std::string password_proof(std::string_view plugin, std::string_view password, std::string_view nonce) {
  if (plugin == kNativePassword) return native_password_proof(password, nonce);
  if (plugin == kCachingSha2) return caching_sha2_proof(password, nonce);
  return {};
}

std::string rsa_encrypted_password(std::string_view password, std::string_view nonce, std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                BIO_free);
  if (!bio) return {};
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
  if (!key) return {};
  std::string plain(password);
  plain.push_back('\0');
  for (size_t i = 0; i < plain.size() && !nonce.empty(); ++i) {
    plain[i] = static_cast<char>(plain[i] ^ nonce[i % nonce.size()]);
  }
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new(key.get(), nullptr),
                                                                  EVP_PKEY_CTX_free);
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_encrypt(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(plain.data()),
                       plain.size()) != 1) {
    return {};
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(plain.data()), plain.size()) != 1) {
    return {};
  }
  out.resize(len);
  return out;
}

bool random_nonce(std::string* out) {
  unsigned char bytes[kNonceSize];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return false;
  out->clear();
  // Servers send printable nonces; some clients treat the nonce as a C string.
  for (unsigned char b : bytes) out->push_back(static_cast<char>(0x21 + b % 0x5E));
  return true;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace lms::mysql
