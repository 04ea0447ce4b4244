#include "providers/compute_provider_registry.h"

#include "gtest/gtest.h"
#include "providers/compute/local/local_compute_provider.h"

namespace shadowplane::providers {
namespace {

TEST(ComputeProviderRegistryTest, CreatesRegisteredProvidersByName) {
  ComputeProviderRegistry registry;
  ASSERT_TRUE(RegisterLocalComputeProvider(registry).ok());
  EXPECT_EQ(RegisterLocalComputeProvider(registry).code(), absl::StatusCode::kAlreadyExists);
  auto local = registry.Create("local", ComputeProviderContext{});
  ASSERT_TRUE(local.ok()) << local.status();
  auto unknown = registry.Create("cloudy", ComputeProviderContext{});
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("local"), std::string::npos) << unknown.status();
}

TEST(LocalComputeProviderTest, UnknownLocationIsNotFound) {
  ComputeProviderContext context;
  context.location_endpoint = [](const std::string& location) -> absl::StatusOr<std::string> {
    return absl::NotFoundError("no location " + location);
  };
  LocalComputeProvider provider(context);
  EXPECT_EQ(provider.ListInstances("atlantis").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(provider.ListInstances("").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(LocalComputeProviderTest, UnreachableAgentIsUnavailableAfterRetries) {
  ComputeProviderContext context;
  context.location_endpoint = [](const std::string&) -> absl::StatusOr<std::string> {
    return std::string("127.0.0.1:1");  // nothing listens on port 1
  };
  context.call_timeout = absl::Milliseconds(300);
  context.max_attempts = 2;
  LocalComputeProvider provider(context);
  auto list = provider.ListInstances("here");
  EXPECT_EQ(list.status().code(), absl::StatusCode::kUnavailable) << list.status();
  EXPECT_NE(list.status().message().find("127.0.0.1:1"), std::string::npos) << list.status();
}

}  // namespace
}  // namespace shadowplane::providers
