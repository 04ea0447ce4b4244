// Origin geography: CIDR longest-prefix lookups and a real MaxMind database built by the test.
#include "geo/origin_resolver.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "support/child_process.h"
#include "support/geoip_test_database.h"

namespace shadowplane::geo {
namespace {

namespace fs = std::filesystem;

IpAddress Ip(const char* text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.ok()) << ip.status();
  return ip.ok() ? *ip : IpAddress{};
}

TEST(IpAddressTest, ParsesBothFamiliesAndRefusesTheRest) {
  EXPECT_TRUE(Ip("192.0.2.1").v4);
  EXPECT_EQ(Ip("192.0.2.1").ToString(), "192.0.2.1");
  EXPECT_FALSE(Ip("2001:db8::1").v4);
  EXPECT_EQ(Ip("2001:db8::1").ToString(), "2001:db8::1");
  EXPECT_TRUE(Ip("::ffff:192.0.2.1").v4) << "IPv4-mapped is IPv4";
  EXPECT_EQ(Ip("::ffff:192.0.2.1"), Ip("192.0.2.1"));
  for (const char* bad :
       {"", "1.2.3", "256.1.1.1", "1.2.3.4/8", "2001:db8:::1", "host.example", " 1.2.3.4"}) {
    auto ip = IpAddress::Parse(bad);
    EXPECT_EQ(ip.status().code(), absl::StatusCode::kInvalidArgument) << "accepted " << bad;
  }
}

TEST(CidrTableTest, LongestPrefixWinsAcrossFamilies) {
  auto table = CidrTable::Build({{"10.0.0.0/8", "eu-central"},
                                 {"10.1.0.0/16", "us-east"},
                                 {"10.1.2.128/25", "ap-southeast"},
                                 {"2001:db8::/32", "us-east"},
                                 {"2001:db8:ab::/48", "eu-central"},
                                 {"0.0.0.0/0", "fallback-v4"}});
  ASSERT_TRUE(table.ok()) << table.status();
  EXPECT_EQ(table->size(), 6u);
  EXPECT_EQ(table->Lookup(Ip("10.9.9.9")), "eu-central");
  EXPECT_EQ(table->Lookup(Ip("10.1.200.1")), "us-east");
  EXPECT_EQ(table->Lookup(Ip("10.1.2.200")), "ap-southeast");
  EXPECT_EQ(table->Lookup(Ip("10.1.2.100")), "us-east");
  EXPECT_EQ(table->Lookup(Ip("2001:db8:1::1")), "us-east");
  EXPECT_EQ(table->Lookup(Ip("2001:db8:ab:1::1")), "eu-central");
  EXPECT_EQ(table->Lookup(Ip("198.51.100.7")), "fallback-v4") << "IPv4 default route";
  EXPECT_EQ(table->Lookup(Ip("2001:db9::1")), std::nullopt) << "an IPv4 /0 is not IPv6's";
}

TEST(CidrTableTest, BadEntriesAreNamed) {
  for (const CidrRule& bad : std::vector<CidrRule>{{"10.0.0.0", "r"},
                                                   {"10.0.0.0/33", "r"},
                                                   {"10.0.0.1/8", "r"},
                                                   {"2001:db8::/129", "r"},
                                                   {"nonsense/8", "r"},
                                                   {"10.0.0.0/8", ""}}) {
    auto table = CidrTable::Build({bad});
    EXPECT_EQ(table.status().code(), absl::StatusCode::kInvalidArgument) << bad.cidr;
    EXPECT_NE(table.status().message().find(bad.cidr), std::string::npos) << table.status();
  }
  auto twice = CidrTable::Build({{"10.0.0.0/8", "a"}, {"10.0.0.0/8", "b"}});
  EXPECT_EQ(twice.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CidrTable::Build({{"10.0.0.0/8", "a"}, {"10.0.0.0/8", "a"}}).ok());
}

class GeoIpDatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-geoip");
    auto built = testing::BuildGeoIpTestDatabase(root_);
    ASSERT_TRUE(built.ok()) << built.status();
    path_ = *built;
  }
  void TearDown() override { fs::remove_all(root_); }
  std::string root_, path_;
};

TEST_F(GeoIpDatabaseTest, LooksUpRegionsOfBothFamilies) {
  auto db = GeoIpDatabase::Open(path_);
  ASSERT_TRUE(db.ok()) << db.status();
  EXPECT_EQ(*(*db)->Lookup(Ip("192.0.2.77")), "eu-central");
  EXPECT_EQ(*(*db)->Lookup(Ip("198.51.100.1")), "ap-southeast");
  EXPECT_EQ(*(*db)->Lookup(Ip("2001:db8:5::9")), "us-east");
  EXPECT_EQ(*(*db)->Lookup(Ip("203.0.113.5")), std::nullopt) << "a record without the field";
  EXPECT_EQ(*(*db)->Lookup(Ip("8.8.8.8")), std::nullopt) << "no network";
  auto nested = GeoIpDatabase::Open(path_, "country/iso_code");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(*(*nested)->Lookup(Ip("192.0.2.1")), "DE");
}

TEST_F(GeoIpDatabaseTest, MissingOrBadDatabasesAreNamed) {
  auto missing = GeoIpDatabase::Open(root_ + "/nope.mmdb");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.mmdb"), std::string::npos);
  std::ofstream(root_ + "/junk.mmdb") << "not a database";
  auto junk = GeoIpDatabase::Open(root_ + "/junk.mmdb");
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kFailedPrecondition) << junk.status();
  EXPECT_NE(junk.status().message().find("junk.mmdb"), std::string::npos);
}

TEST_F(GeoIpDatabaseTest, ResolverPrefersTheEventThenCidrThenGeoIpThenUnknown) {
  auto cidr = CidrTable::Build({{"192.0.2.0/25", "us-west"}});
  ASSERT_TRUE(cidr.ok());
  auto db = GeoIpDatabase::Open(path_);
  ASSERT_TRUE(db.ok());
  OriginResolver resolver(*std::move(cidr), *std::move(db));
  Origin event = resolver.Resolve(Ip("192.0.2.1"), "sa-east");
  EXPECT_EQ(event.region, "sa-east");
  EXPECT_EQ(event.source, OriginSource::kEvent);
  Origin by_cidr = resolver.Resolve(Ip("192.0.2.1"));
  EXPECT_EQ(by_cidr.region, "us-west");
  EXPECT_EQ(by_cidr.source, OriginSource::kCidr);
  Origin by_geoip = resolver.Resolve(Ip("192.0.2.200"));
  EXPECT_EQ(by_geoip.region, "eu-central");
  EXPECT_EQ(by_geoip.source, OriginSource::kGeoIp);
  Origin unknown = resolver.Resolve(Ip("8.8.4.4"));
  EXPECT_EQ(unknown.region, kUnknownRegion);
  EXPECT_EQ(unknown.source, OriginSource::kUnknown);
  OriginResolver cidr_only(CidrTable(), nullptr);
  EXPECT_EQ(cidr_only.Resolve(Ip("2001:db8::1")).region, kUnknownRegion);
}

}  // namespace
}  // namespace shadowplane::geo
