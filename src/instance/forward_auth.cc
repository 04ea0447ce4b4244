#include "instance/forward_auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace shadowplane::instance {
namespace {

std::string Mac(absl::string_view secret, absl::string_view method, absl::string_view target,
                absl::string_view forwarded_by, int64_t at) {
  // Fields joined by a byte none of them may hold (HTTP forbids it in methods, targets and
  // header values), so that no two field lists sign alike.
  const std::string message =
      absl::StrCat(method, std::string(1, '\0'), target, std::string(1, '\0'), forwarded_by,
                   std::string(1, '\0'), at);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

bool IsSecret(absl::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

std::string NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();  // no randomness: nothing is safe
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes), sizeof(bytes)));
}

bool SameSecret(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string SignForward(absl::string_view secret, absl::string_view method,
                        absl::string_view target, absl::string_view forwarded_by, absl::Time now) {
  const int64_t at = absl::ToUnixSeconds(now);
  return absl::StrCat("t=", at, ",mac=", Mac(secret, method, target, forwarded_by, at));
}

bool VerifyForward(absl::string_view secret, absl::string_view signature, absl::string_view method,
                   absl::string_view target, absl::string_view forwarded_by, absl::Time now) {
  if (!IsSecret(secret) || !absl::ConsumePrefix(&signature, "t=")) return false;
  const size_t comma = signature.find(",mac=");
  if (comma == absl::string_view::npos) return false;
  int64_t at = 0;
  if (!absl::SimpleAtoi(signature.substr(0, comma), &at)) return false;
  const int64_t window = absl::ToInt64Seconds(kForwardSignatureWindow);
  const int64_t here = absl::ToUnixSeconds(now);
  // |here - at| <= window, without overflow for any `at`.
  if (at < here - window || at > here + window) return false;
  return SameSecret(signature.substr(comma + 5), Mac(secret, method, target, forwarded_by, at));
}

}  // namespace shadowplane::instance
