// The instance layout on real files: staging builds a whole instance or nothing, seeds are copied
// without following links, removal leaves nothing behind.
#include "agent/instance_layout.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "common/file_util.h"
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

// A seed root that holds the agent's data root (say "/srv" for "/srv/agent") must not let a
// caller seed from the instances' own data, which would copy other resources' files, or the
// whole data root into itself.
TEST_F(InstanceLayoutTest, ASeedOverlappingTheDataRootIsRefused) {
  const std::string data_root = root_ + "/agent";
  fs::create_directories(data_root + "/instances/i-1/data");
  fs::create_directories(root_ + "/seeds/web");
  const absl::Status into_itself = CheckSeedDir(data_root, root_, data_root).status();
  EXPECT_EQ(into_itself.code(), absl::StatusCode::kPermissionDenied) << into_itself;
  EXPECT_TRUE(absl::StrContains(into_itself.message(), "data root")) << into_itself;
  EXPECT_EQ(CheckSeedDir(data_root + "/instances/i-1/data", root_, data_root).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(CheckSeedDir(root_, root_, data_root).status().code(),
            absl::StatusCode::kPermissionDenied)
      << "a seed holding the data root";
  EXPECT_TRUE(CheckSeedDir(root_ + "/seeds/web", root_, data_root).ok());
}

// Two creates of one instance stage apart (each its own directory), so that the copy can run
// without the agent's lock; the one not committed is discarded and nothing else stays.
TEST_F(InstanceLayoutTest, StagingDirectoriesAreNeverShared) {
  const std::string seed = root_ + "/seed";
  fs::create_directories(seed);
  std::ofstream(seed + "/f.txt") << "seeded";
  fs::create_symlink("/no/such/target", seed + "/dangling");
  const InstanceLayout layout(root_);
  absl::StatusOr<std::string> first = layout.StageData("i-1", seed);
  absl::StatusOr<std::string> second = layout.StageData("i-1", seed);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_NE(*first, *second);
  EXPECT_TRUE(InstanceLayout::IsStaging(fs::path(*first).filename().string()));
  ASSERT_TRUE(layout.Commit(*first, Config("i-1")).ok());
  layout.Discard(*second);
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(layout.instances_dir())) {
    ++entries;
    EXPECT_EQ(e.path().filename().string(), "i-1");
  }
  EXPECT_EQ(entries, 1u);
  EXPECT_TRUE(fs::is_symlink(layout.DataDir("i-1") + "/dangling")) << "synced without following";
}

TEST(SyncTreeTest, SyncsATreeWithoutFollowingLinksAndNamesWhatFails) {
  const std::string root = testing::MakeTempDir("sp-synctree");
  fs::create_directories(root + "/a/b");
  std::ofstream(root + "/a/b/f") << "x";
  fs::create_symlink("/etc", root + "/a/etc");
  EXPECT_TRUE(SyncTree(root).ok());
  const absl::Status missing = SyncTree(root + "/missing");
  EXPECT_FALSE(missing.ok());
  EXPECT_TRUE(absl::StrContains(missing.message(), "missing")) << missing;
  fs::remove_all(root);
}

}  // namespace
}  // namespace shadowplane::agent
