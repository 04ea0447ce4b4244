// The instance layout on real files: staging builds a whole instance or nothing, seeds are copied
// without following links, removal leaves nothing behind.
#include "agent/instance_layout.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/match.h"
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

TEST_F(InstanceLayoutTest, SeedDirectoriesAreCheckedAndConfinedToTheSeedRoot) {
  fs::create_directories(root_ + "/seeds/web/docs");
  const std::string seeds = root_ + "/seeds";
  absl::StatusOr<std::string> web = CheckSeedDir(seeds + "/web", seeds);
  ASSERT_TRUE(web.ok()) << web.status();
  EXPECT_EQ(*web, fs::canonical(seeds + "/web").string());
  EXPECT_TRUE(CheckSeedDir(seeds, seeds).ok());
  std::ofstream(seeds + "/file") << "x";
  EXPECT_EQ(CheckSeedDir(seeds + "/file", seeds).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckSeedDir(seeds + "/missing", seeds).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Outside the root: refused, however it is spelled.
  const absl::Status etc = CheckSeedDir("/etc", seeds).status();
  EXPECT_EQ(etc.code(), absl::StatusCode::kPermissionDenied) << etc;
  EXPECT_TRUE(absl::StrContains(etc.message(), "seed_dir /etc")) << etc;
  EXPECT_EQ(CheckSeedDir(seeds + "/../", seeds).status().code(),
            absl::StatusCode::kPermissionDenied);
  fs::create_directory_symlink("/etc", seeds + "/web/docs/etc");
  EXPECT_EQ(CheckSeedDir(seeds + "/web/docs/etc", seeds).status().code(),
            absl::StatusCode::kPermissionDenied);
  fs::create_directories(root_ + "/seeds-other");
  EXPECT_EQ(CheckSeedDir(root_ + "/seeds-other", seeds).status().code(),
            absl::StatusCode::kPermissionDenied)
      << "a sibling whose name starts like the root is outside it";
  // Without a seed root the agent takes no seeds.
  EXPECT_EQ(CheckSeedDir(seeds + "/web", "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(InstanceLayout::IsStaging(".staging-x"));
  EXPECT_FALSE(InstanceLayout::IsStaging("x"));
}

}  // namespace
}  // namespace shadowplane::agent
