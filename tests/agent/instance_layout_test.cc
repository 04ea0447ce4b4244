// The instance layout on real files: staging builds a whole instance or nothing, seeds are copied
// without following links, removal leaves nothing behind.
#include "agent/instance_layout.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "support/child_process.h"

namespace shadowplane::agent {
namespace {

namespace fs = std::filesystem;

class InstanceLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-layout");
    fs::create_directories(root_ + "/instances");
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  instance::InstanceConfig Config(const std::string& id) {
    instance::InstanceConfig config;
    config.instance_id = id;
    config.resource_id = "r";
    config.address = "127.0.1.1";
    config.port = 8080;
    return config;
  }
  std::string root_;
};

TEST_F(InstanceLayoutTest, StagingBuildsTheWholeInstanceWithItsSeedAndConfig) {
  const std::string seed = root_ + "/seed";
  fs::create_directories(seed + "/sub");
  std::ofstream(seed + "/sub/f.txt") << "seeded";
  fs::create_symlink("/etc/passwd", seed + "/outside");
  const InstanceLayout layout(root_);
  ASSERT_TRUE(layout.Stage(Config("i-1"), seed).ok());
  std::ifstream in(layout.DataDir("i-1") + "/sub/f.txt");
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(content, "seeded");
  EXPECT_TRUE(fs::is_symlink(layout.DataDir("i-1") + "/outside")) << "copied as a link";
  auto loaded = instance::LoadInstanceConfig(layout.ConfigPath("i-1"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->instance_id, "i-1");
  for (const auto& e : fs::directory_iterator(layout.instances_dir())) {
    EXPECT_FALSE(InstanceLayout::IsStaging(e.path().filename().string())) << e.path();
  }
  ASSERT_TRUE(layout.Stage(Config("i-2"), "").ok());
  EXPECT_TRUE(fs::is_directory(layout.DataDir("i-2")));
  EXPECT_TRUE(fs::is_empty(layout.DataDir("i-2")));
}

TEST_F(InstanceLayoutTest, ASeedThatCannotBeCopiedLeavesNothing) {
  const InstanceLayout layout(root_);
  const absl::Status s = layout.Stage(Config("i-1"), root_ + "/no-such-seed");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("seed_dir"), std::string::npos) << s;
  EXPECT_TRUE(fs::is_empty(layout.instances_dir()));
}

TEST_F(InstanceLayoutTest, RemovalLeavesNothingAndAnUnknownInstanceIsAnError) {
  const InstanceLayout layout(root_);
  ASSERT_TRUE(layout.Stage(Config("i-1"), "").ok());
  ASSERT_TRUE(layout.Remove("i-1").ok());
  EXPECT_TRUE(fs::is_empty(layout.instances_dir()));
  EXPECT_FALSE(layout.Remove("i-1").ok());
}

TEST_F(InstanceLayoutTest, SeedDirectoriesAreChecked) {
  EXPECT_TRUE(CheckSeedDir(root_).ok());
  std::ofstream(root_ + "/file") << "x";
  EXPECT_EQ(CheckSeedDir(root_ + "/file").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSeedDir(root_ + "/missing").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(InstanceLayout::IsStaging(".staging-x"));
  EXPECT_FALSE(InstanceLayout::IsStaging("x"));
}

}  // namespace
}  // namespace shadowplane::agent
