// What stays on this machine: loopback hosts and listen addresses.
#include "common/loopback.h"

#include "gtest/gtest.h"

namespace shadowplane {
namespace {

TEST(LoopbackTest, LoopbackHostsAndListenAddresses) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.9.8.7"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_TRUE(IsLoopbackHost("[::1]"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("example.com"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("::"));
  EXPECT_TRUE(IsLoopbackListen("127.0.0.1:50051"));
  EXPECT_TRUE(IsLoopbackListen("[::1]:50051"));
  EXPECT_TRUE(IsLoopbackListen("localhost:50051"));
  EXPECT_FALSE(IsLoopbackListen("0.0.0.0:50051"));
  EXPECT_FALSE(IsLoopbackListen("[::]:50051"));
  EXPECT_FALSE(IsLoopbackListen("192.168.1.5:50051"));
  EXPECT_FALSE(IsLoopbackListen("127.0.0.1"));
}

}  // namespace
}  // namespace shadowplane
