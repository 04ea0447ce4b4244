#include "instance/instance_config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "gtest/gtest.h"
#include "instance/token_bucket.h"

namespace shadowplane::instance {
namespace {

TEST(InstanceConfigTest, RoundTrips) {
  char dir[] = "/tmp/instance-config-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string path = std::string(dir) + "/instance.yaml";
  InstanceConfig config;
  config.instance_id = "i-1";
  config.resource_id = "r-1";
  config.capacity = {1500, 512, CapacityType::kSpot};
  config.read_only = false;
  config.address = "127.0.1.9";
  config.port = 8080;
  config.hold_writes = true;
  config.forward_writes_to = "127.0.1.8:8080";
  config.generation = 12;
  config.record_accesses = false;
  config.trusted_proxies = {"127.0.0.1", "::1"};
  config.forward_secret = std::string(64, 'a');
  config.agent_key = std::string(64, '7');
  ASSERT_TRUE(SaveInstanceConfig(config, path).ok());
  auto loaded = LoadInstanceConfig(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(*loaded, config);
  // It holds secrets: its owner's only.
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // A secret of another form is refused, naming it.
  std::ofstream(path) << "instance_id: i-1\nresource_id: r-1\nmillicores: 1\nmemory_mib: 1\n"
                         "capacity_type: on_demand\nread_only: true\nactive: true\n"
                         "address: 127.0.0.1\nport: 1\nforward_secret: short\n";
  absl::StatusOr<InstanceConfig> weak = LoadInstanceConfig(path);
  EXPECT_EQ(weak.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(weak.status().message().find("forward_secret"), std::string::npos) << weak.status();

  // A trusted proxy that is no address is refused, naming the key.
  std::ofstream(path) << "instance_id: i-1\nresource_id: r-1\nmillicores: 1\nmemory_mib: 1\n"
                         "capacity_type: on_demand\nread_only: true\nactive: true\n"
                         "address: 127.0.0.1\nport: 1\ntrusted_proxies: [haproxy]\n";
  absl::StatusOr<InstanceConfig> bad = LoadInstanceConfig(path);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find("trusted_proxies"), std::string::npos) << bad.status();

  std::ofstream(path) << "instance_id: [broken\n";
  EXPECT_EQ(LoadInstanceConfig(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(LoadInstanceConfig(std::string(dir) + "/missing.yaml").status().code(),
            absl::StatusCode::kNotFound);
  unlink(path.c_str());
  rmdir(dir);
}

TEST(InstanceConfigTest, CapacityBecomesLimits) {
  EXPECT_EQ(WorkerThreadsFor({100, 64, CapacityType::kOnDemand}), 1);
  EXPECT_EQ(WorkerThreadsFor({1000, 64, CapacityType::kOnDemand}), 4);
  EXPECT_EQ(WorkerThreadsFor({100000, 64, CapacityType::kOnDemand}), 64);
  EXPECT_EQ(RequestsPerSecondFor({250, 64, CapacityType::kOnDemand}), 250);
}

TEST(TokenBucketTest, LimitsTheRate) {
  TokenBucket bucket(10, 10);
  const absl::Time t0 = absl::Now();
  int taken = 0;
  for (int i = 0; i < 20; ++i) taken += bucket.TryTake(t0) ? 1 : 0;
  EXPECT_EQ(taken, 10);  // the burst
  EXPECT_FALSE(bucket.TryTake(t0 + absl::Milliseconds(50)));
  EXPECT_TRUE(bucket.TryTake(t0 + absl::Milliseconds(150)));  // 1.5 tokens refilled
  bucket.SetRate(1000, 1000);
  EXPECT_TRUE(bucket.TryTake(t0 + absl::Seconds(2)));
}

}  // namespace
}  // namespace shadowplane::instance
