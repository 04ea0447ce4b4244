// Signatures of forwarded requests (instance/forward_auth.h): good for the request, the
// forwarding instance and the secret they were made with, within the window, and nothing else.
#include "instance/forward_auth.h"

#include <set>

#include "gtest/gtest.h"

namespace shadowplane::instance {
namespace {

const std::string kSecret(64, 'c');

TEST(ForwardAuthTest, ASignatureHoldsForItsRequestSecretAndWindowOnly) {
  const absl::Time now = absl::FromUnixSeconds(1796558400);
  const std::string s = SignForward(kSecret, "PUT", "/a.txt", "i-1", now);
  EXPECT_TRUE(VerifyForward(kSecret, s, "PUT", "/a.txt", "i-1", now));
  EXPECT_TRUE(VerifyForward(kSecret, s, "PUT", "/a.txt", "i-1", now + kForwardSignatureWindow));
  EXPECT_TRUE(VerifyForward(kSecret, s, "PUT", "/a.txt", "i-1", now - kForwardSignatureWindow));
  EXPECT_FALSE(VerifyForward(kSecret, s, "PUT", "/a.txt", "i-1",
                             now + kForwardSignatureWindow + absl::Seconds(1)));
  EXPECT_FALSE(VerifyForward(kSecret, s, "DELETE", "/a.txt", "i-1", now));
  EXPECT_FALSE(VerifyForward(kSecret, s, "PUT", "/b.txt", "i-1", now));
  EXPECT_FALSE(VerifyForward(kSecret, s, "PUT", "/a.txt", "i-2", now));
  EXPECT_FALSE(VerifyForward(std::string(64, 'd'), s, "PUT", "/a.txt", "i-1", now));
  // Fields cannot slide into one another.
  EXPECT_FALSE(VerifyForward(kSecret, SignForward(kSecret, "PUT", "/a.txt", "i-1", now), "PU",
                             "T/a.txt", "i-1", now));
}

TEST(ForwardAuthTest, MalformedSecretsAndSignaturesNeverVerify) {
  const absl::Time now = absl::FromUnixSeconds(1796558400);
  const std::string s = SignForward(kSecret, "GET", "/", "i-1", now);
  for (const std::string& bad :
       {std::string(), std::string("t=,mac="), std::string("mac=x"),
        std::string("t=99999999999999999999,mac=00"), std::string("t=-9223372036854775808,mac=00"),
        s.substr(0, s.size() - 1), s + "0"}) {
    EXPECT_FALSE(VerifyForward(kSecret, bad, "GET", "/", "i-1", now)) << bad;
  }
  EXPECT_FALSE(VerifyForward("", s, "GET", "/", "i-1", now)) << "no secret: nothing verifies";
  EXPECT_FALSE(VerifyForward(std::string(63, 'c'), s, "GET", "/", "i-1", now));
  EXPECT_FALSE(VerifyForward(std::string(64, 'C'), s, "GET", "/", "i-1", now));
}

TEST(ForwardAuthTest, NewSecretsAreWellFormedAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string s = NewSecret();
    EXPECT_TRUE(IsSecret(s)) << s;
    EXPECT_TRUE(seen.insert(s).second);
  }
  EXPECT_TRUE(SameSecret(kSecret, std::string(64, 'c')));
  EXPECT_FALSE(SameSecret(kSecret, std::string(63, 'c')));
  EXPECT_FALSE(SameSecret(kSecret, std::string(64, 'd')));
}

}  // namespace
}  // namespace shadowplane::instance
