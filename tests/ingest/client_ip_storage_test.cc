// What is kept of a client's address: the network when truncated, a keyed pseudonym in fd00::/8
// when hashed (stable per client and key, different across keys), the address itself when full.
#include "ingest/client_ip_storage.h"

#include <gtest/gtest.h>

namespace shadowplane::ingest {
namespace {

std::string Stored(const std::string& ip, ClientIpStorage storage,
                   const std::string& key = "0123456789abcdef") {
  absl::StatusOr<geo::IpAddress> parsed = geo::IpAddress::Parse(ip);
  EXPECT_TRUE(parsed.ok()) << ip;
  return StoredClientAddress(*parsed, storage, key).ToString();
}

TEST(ClientIpStorageTest, FullTruncatedAndHashed) {
  EXPECT_EQ(Stored("192.0.2.77", ClientIpStorage::kFull), "192.0.2.77");
  EXPECT_EQ(Stored("192.0.2.77", ClientIpStorage::kTruncated), "192.0.2.0");
  EXPECT_EQ(Stored("2001:db8:aaaa:bbbb::1", ClientIpStorage::kTruncated), "2001:db8:aaaa::");
  const std::string a = Stored("192.0.2.77", ClientIpStorage::kHashed);
  EXPECT_EQ(a.rfind("fd", 0), 0u) << a;
  EXPECT_EQ(a, Stored("192.0.2.77", ClientIpStorage::kHashed)) << "stable per client and key";
  EXPECT_NE(a, Stored("192.0.2.78", ClientIpStorage::kHashed));
  EXPECT_NE(a, Stored("192.0.2.77", ClientIpStorage::kHashed, "another key of 16+"));
  EXPECT_EQ(a.find("192"), std::string::npos);
  ClientIpStorage parsed;
  EXPECT_TRUE(ParseClientIpStorage("truncated", &parsed));
  EXPECT_EQ(parsed, ClientIpStorage::kTruncated);
  EXPECT_FALSE(ParseClientIpStorage("anonymous", &parsed));
}

}  // namespace
}  // namespace shadowplane::ingest
