#include "catalog/catalog.h"

#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"

namespace shadowplane::catalog {
namespace {

class CatalogFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& yaml) {
    char path[] = "/tmp/catalog-test-XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    std::ofstream(path) << yaml;
    files_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& f : files_) unlink(f.c_str());
  }
  std::vector<std::string> files_;
};

constexpr char kLocation[] = R"(
regions:
  - {name: eu, latitude: 50, longitude: 8}
locations:
  - name: fra-1
    region: eu
    latitude: 50.1
    longitude: 8.7
    agent_endpoint: 127.0.0.1:50061
    on_demand_price_per_vcpu_hour: 0.04
    on_demand_price_per_gib_hour: 0.005
    capacity_millicores: 8000
    capacity_memory_mib: 16384
measured_rtts:
  - {region: eu, location: fra-1, rtt_ms: 2.5}
)";

TEST_F(CatalogFileTest, LoadsRegionsLocationsAndMeasuredRtts) {
  auto file = LoadCatalogFile(Write(kLocation));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->regions.size(), 1u);
  ASSERT_EQ(file->locations.size(), 1u);
  EXPECT_EQ(file->locations[0].agent_endpoint, "127.0.0.1:50061");
  EXPECT_FALSE(file->locations[0].spot_price_per_vcpu_hour.has_value());
  ASSERT_EQ(file->measured_rtts.size(), 1u);
  EXPECT_EQ(file->measured_rtts[0].rtt_ms, 2.5);
}

TEST_F(CatalogFileTest, ProblemsNameTheEntryAndTheField) {
  std::string yaml = kLocation;
  auto bad = [&](const std::string& from, const std::string& to) {
    std::string text = yaml;
    text.replace(text.find(from), from.size(), to);
    return LoadCatalogFile(Write(text)).status();
  };
  absl::Status s = bad("latitude: 50.1", "latitude: 95");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("location 'fra-1'"), std::string::npos) << s;
  EXPECT_NE(s.message().find("latitude"), std::string::npos) << s;
  s = bad("on_demand_price_per_vcpu_hour: 0.04", "on_demand_price_per_vcpu_hour: -1");
  EXPECT_NE(s.message().find("on_demand_price_per_vcpu_hour"), std::string::npos) << s;
  s = bad("    capacity_millicores: 8000\n", "");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("fra-1"), std::string::npos) << s;
  s = bad("rtt_ms: 2.5", "rtt_ms: -3");
  EXPECT_NE(s.message().find("rtt_ms"), std::string::npos) << s;
  s = bad("name: fra-1", "name: Fra 1");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  s = bad("capacity_memory_mib: 16384",
          "spot_price_per_vcpu_hour: 0.01\n    capacity_memory_mib: 16384");
  EXPECT_NE(s.message().find("go together"), std::string::npos) << s;
  EXPECT_EQ(LoadCatalogFile("/nonexistent/locations.yaml").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LoadCatalogFile(Write("regions: [unclosed\n")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CatalogFileTest, ClientNetworksAreLoadedAndBadOnesNamed) {
  const std::string good = std::string(kLocation) +
                           "networks:\n  - {cidr: 10.0.0.0/8, region: eu}\n"
                           "  - {cidr: \"2001:db8::/32\", region: eu}\n";
  auto file = LoadCatalogFile(Write(good));
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->networks.size(), 2u);
  EXPECT_EQ(file->networks[1].network, "2001:db8::/32");
  EXPECT_EQ(file->networks[1].region, "eu");
  for (const auto& [entry, named] : std::vector<std::pair<std::string, std::string>>{
           {"{cidr: 10.0.0.1/8, region: eu}", "10.0.0.1/8"},    // host bits set
           {"{cidr: 10.0.0.0/40, region: eu}", "10.0.0.0/40"},  // prefix too long
           {"{cidr: nonsense, region: eu}", "nonsense"},
           {"{cidr: 10.0.0.0/8}", "network 10.0.0.0/8"},  // no region
       }) {
    const absl::Status s =
        LoadCatalogFile(Write(std::string(kLocation) + "networks:\n  - " + entry + "\n")).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << entry;
    EXPECT_NE(s.message().find(named), std::string::npos) << s;
  }
  const absl::Status twice =
      LoadCatalogFile(Write(std::string(kLocation) + "networks:\n  - {cidr: 10.0.0.0/8, region: "
                                                     "eu}\n  - {cidr: 10.0.0.0/8, region: us}\n"))
          .status();
  EXPECT_EQ(twice.code(), absl::StatusCode::kInvalidArgument) << "one prefix, two regions";
}

TEST(ValidateLocationTest, SpotAvailabilityAndNamesAreChecked) {
  store::LocationRecord l;
  l.name = "ok-1";
  l.region = "eu";
  EXPECT_TRUE(ValidateLocation(l).ok());
  l.spot_availability = 1.5;
  EXPECT_NE(ValidateLocation(l).message().find("spot_availability"), std::string::npos);
  l.spot_availability = 0;
  l.region = "";
  EXPECT_NE(ValidateLocation(l).message().find("region"), std::string::npos);
  store::RegionRecord r{"eu", "", 0, 181, {}};
  EXPECT_NE(ValidateRegion(r).message().find("longitude"), std::string::npos);
}

// An agent endpoint is host:port, nothing else: a location cannot be pointed at a local socket,
// a URL or a made-up address.
TEST(ValidateAgentEndpointTest, OnlyHostAndPortAreAccepted) {
  for (const char* good : {"127.0.0.1:50061", "[::1]:50061", "agent-fra-1.example.net:443",
                           "localhost:1", "10.0.0.7:65535"}) {
    EXPECT_TRUE(ValidateAgentEndpoint(good).ok()) << good << ": " << ValidateAgentEndpoint(good);
  }
  for (const char* bad :
       {"unix:/run/evil.sock", "unix:///tmp/x:1", "dns:///agent:50061", "http://agent:50061",
        "agent", "agent:", "agent:0", "agent:65536", "agent:50061/path", "user@agent:50061",
        "ag ent:50061", "[::1:50061", "[zz::1]:50061", "300.1.1.1:50061", "-agent:1", ":50061",
        "agent:+80", "agent\n:80"}) {
    const absl::Status s = ValidateAgentEndpoint(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("agent_endpoint"), std::string::npos) << s;
  }
  store::LocationRecord l;
  l.name = "fra-1";
  l.region = "eu-central";
  l.agent_endpoint = "unix:/var/run/docker.sock";
  EXPECT_EQ(ValidateLocation(l).code(), absl::StatusCode::kInvalidArgument);
  l.agent_endpoint = "";
  EXPECT_TRUE(ValidateLocation(l).ok()) << "a location without an agent (yet)";
}

}  // namespace
}  // namespace shadowplane::catalog
