// The capacity ledger: what fits at a location, and which address an instance gets.
#include "agent/capacity_ledger.h"

#include "gtest/gtest.h"

namespace shadowplane::agent {
namespace {

TEST(CapacityLedgerTest, AnInstanceFitsBesideTheActiveOnesOrIsRefusedSayingWhatIsFree) {
  const CapacityLedger ledger("fra-1", 2000, 4096, "127.0.1");
  const std::map<std::string, Capacity> active = {{"a", {1000, 1024}}, {"b", {500, 2048}}};
  EXPECT_TRUE(ledger.CheckFits(active, {500, 1024}, "").ok());
  const absl::Status cpu = ledger.CheckFits(active, {501, 1}, "");
  EXPECT_EQ(cpu.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(cpu.message().find("fra-1 has 500 millicores and 1024 MiB free"), std::string::npos)
      << cpu;
  EXPECT_EQ(ledger.CheckFits(active, {1, 1025}, "").code(), absl::StatusCode::kResourceExhausted);
  // Resizing "a" counts its new size instead of its old one.
  EXPECT_TRUE(ledger.CheckFits(active, {1500, 2048}, "a").ok());
  EXPECT_FALSE(ledger.CheckFits(active, {1501, 2048}, "a").ok());
  EXPECT_TRUE(ledger.CheckFits({}, ledger.total(), "").ok());
}

TEST(CapacityLedgerTest, AddressesAreTheLowestFreeOfTheNetworkUntilAllAreTaken) {
  const CapacityLedger ledger("fra-1", 1, 1, "127.0.1");
  EXPECT_EQ(*ledger.AllocateAddress({}), "127.0.1.1");
  EXPECT_EQ(*ledger.AllocateAddress({"127.0.1.1", "127.0.1.3"}), "127.0.1.2");
  std::set<std::string> all;
  for (int i = 1; i <= 254; ++i) all.insert("127.0.1." + std::to_string(i));
  const auto none = ledger.AllocateAddress(all);
  EXPECT_EQ(none.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(none.status().message().find("127.0.1.0/24"), std::string::npos) << none.status();
}

}  // namespace
}  // namespace shadowplane::agent
