#include "common/serving_status.h"

#include <vector>

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(ServingStatusTest, TracksServicesAndNotifiesListeners) {
  ServingStatus status;
  EXPECT_FALSE(status.Get("").has_value());
  status.Set("", false);
  status.Set("svc", false);
  std::vector<bool> seen;
  const int64_t id = status.Subscribe("svc", [&seen](bool serving) { seen.push_back(serving); });
  status.SetAll(true);
  EXPECT_EQ(status.Get(""), true);
  EXPECT_EQ(status.Get("svc"), true);
  status.Set("other", false);
  status.Unsubscribe(id);
  status.Set("svc", false);
  EXPECT_EQ(seen, std::vector<bool>{true});
}

}  // namespace
}  // namespace shadowplane
