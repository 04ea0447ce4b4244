// Two real shadowplane-agent processes (label e2e) syncing an instance's tree agent to agent:
// bad requests, and a target agent killed with SIGKILL in the middle of a round.
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/agent_protocol.h"
#include "gtest/gtest.h"
#include "shadowplane/agent/v1/agent.grpc.pb.h"
#include "shadowplane/agent/v1/sync.grpc.pb.h"
#include "support/agent_under_test.h"
#include "support/child_process.h"
#include "sync/sync_test_support.h"

namespace shadowplane {
namespace {

namespace fs = std::filesystem;
namespace pb = shadowplane::agent::v1;
using testing::CompareTrees;
using testing::RandomBytes;
using testing::ReadFileOrDie;
using testing::WriteFile;

class AgentSyncProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = testing::MakeTempDir("sp-agent-sync");
    source_agent_ =
        std::make_unique<testing::AgentUnderTest>(SHADOWPLANE_AGENT_BIN, root_ + "/a", "src-1");
    target_agent_ =
        std::make_unique<testing::AgentUnderTest>(SHADOWPLANE_AGENT_BIN, root_ + "/b", "dst-1");
    ASSERT_TRUE(source_agent_->Start().ok());
    ASSERT_TRUE(target_agent_->Start().ok());
    WriteFile(root_ + "/seed/readme", "seed");
    source_dir_ = Create(*source_agent_, "src-inst", false);
    target_dir_ = Create(*target_agent_, "dst-inst", true);
    ASSERT_FALSE(source_dir_.empty());
    ASSERT_FALSE(target_dir_.empty());
  }
  void TearDown() override {
    source_agent_.reset();
    target_agent_.reset();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static void Prepare(grpc::ClientContext& context, absl::Duration timeout) {
    context.AddMetadata(kAgentProtocolMetadataKey, absl::StrCat(kAgentProtocolVersion));
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  }

  std::string Create(testing::AgentUnderTest& agent, const std::string& id, bool read_only) {
    auto stub = pb::AgentService::NewStub(
        grpc::CreateChannel(agent.endpoint(), grpc::InsecureChannelCredentials()));
    pb::CreateInstanceRequest request;
    request.set_instance_id(id);
    request.set_resource_id("r");
    request.mutable_capacity()->set_millicores(100);
    request.mutable_capacity()->set_memory_mib(64);
    request.set_read_only(read_only);
    if (!read_only) {
      request.mutable_grant()->set_epoch(1);
      request.mutable_grant()->set_lease_ms(600000);  // outlasts the test: nothing renews it
    }
    request.set_seed_dir(root_ + "/seed");
    pb::Instance instance;
    grpc::ClientContext context;
    Prepare(context, absl::Seconds(30));
    grpc::Status s = stub->CreateInstance(&context, request, &instance);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return instance.data_dir();
  }

  grpc::Status SyncFrom(pb::SyncFromRequest request, pb::SyncFromResponse* response,
                        bool with_protocol = true) {
    auto stub = pb::SyncService::NewStub(
        grpc::CreateChannel(target_agent_->endpoint(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    if (with_protocol) {
      Prepare(context, absl::Seconds(60));
    }
    return stub->SyncFrom(&context, request, response);
  }

  pb::SyncFromRequest Request() {
    pb::SyncFromRequest request;
    request.set_source_endpoint(source_agent_->endpoint());
    request.set_source_location("src-1");
    request.set_source_instance_id("src-inst");
    request.set_target_instance_id("dst-inst");
    request.set_mode(pb::QUICK);
    return request;
  }

  std::string root_, source_dir_, target_dir_;
  std::unique_ptr<testing::AgentUnderTest> source_agent_, target_agent_;
};

TEST_F(AgentSyncProcessTest, SyncsAndRejectsBadRequests) {
  WriteFile(source_dir_ + "/docs/a.txt", "alpha");
  pb::SyncFromResponse response;
  grpc::Status ok = SyncFrom(Request(), &response);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(CompareTrees(source_dir_, target_dir_), "");
  EXPECT_GT(response.stats().bytes_wire(), 0);

  auto expect = [&](pb::SyncFromRequest request, grpc::StatusCode code, const char* needle,
                    bool with_protocol = true) {
    pb::SyncFromResponse r;
    grpc::Status s = SyncFrom(request, &r, with_protocol);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_NE(s.error_message().find(needle), std::string::npos) << s.error_message();
  };
  pb::SyncFromRequest r = Request();
  r.clear_source_endpoint();
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "source_endpoint");
  r = Request();
  r.clear_target_instance_id();
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "target_instance_id");
  r = Request();
  r.clear_source_location();
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "source_location");
  r = Request();
  r.set_mode(static_cast<pb::SyncMode>(42));
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "mode");
  r = Request();
  r.set_mode(pb::FINAL);
  r.add_paths("../../etc/passwd");
  expect(r, grpc::StatusCode::INVALID_ARGUMENT, "paths");
  r = Request();
  r.set_target_instance_id("no-such-instance");
  expect(r, grpc::StatusCode::NOT_FOUND, "no-such-instance");
  r = Request();
  r.set_source_instance_id("no-such-source");
  expect(r, grpc::StatusCode::NOT_FOUND, "no-such-source");
  r = Request();
  r.set_source_endpoint("127.0.0.1:1");
  r.set_source_location("src-1");
  expect(r, grpc::StatusCode::UNAVAILABLE, "source");
  expect(Request(), grpc::StatusCode::FAILED_PRECONDITION, "protocol", false);
}

// A sync into an instance that takes writes would delete what its clients wrote: refused, and the
// primary's new file is still there.
TEST_F(AgentSyncProcessTest, NothingIsSyncedIntoAReadWritePrimary) {
  WriteFile(source_dir_ + "/new.txt", "a client's write");
  pb::SyncFromRequest into_primary;
  into_primary.set_source_endpoint(target_agent_->endpoint());
  into_primary.set_source_location("dst-1");
  into_primary.set_source_instance_id("dst-inst");
  into_primary.set_target_instance_id("src-inst");
  into_primary.set_mode(pb::CHECKSUM);
  auto stub = pb::SyncService::NewStub(
      grpc::CreateChannel(source_agent_->endpoint(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  Prepare(context, absl::Seconds(30));
  pb::SyncFromResponse response;
  const grpc::Status s = stub->SyncFrom(&context, into_primary, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("overwrite"), std::string::npos) << s.error_message();
  std::ifstream kept(source_dir_ + "/new.txt");
  std::string text((std::istreambuf_iterator<char>(kept)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "a client's write");
}

// The source (epoch 1) is a stale primary once the target was granted epoch 2: its round is
// refused before it writes anything, and goes through once the source holds a newer epoch.
TEST_F(AgentSyncProcessTest, AStalePrimaryNeverOverwritesTheInstanceThatTookOver) {
  WriteFile(source_dir_ + "/kept.txt", "promoted's version");
  pb::SyncFromResponse first;
  ASSERT_TRUE(SyncFrom(Request(), &first).ok());
  auto grant = [&](testing::AgentUnderTest& agent, const std::string& id, int64_t epoch) {
    auto stub = pb::AgentService::NewStub(
        grpc::CreateChannel(agent.endpoint(), grpc::InsecureChannelCredentials()));
    pb::SetReadOnlyRequest request;
    request.set_instance_id(id);
    request.set_read_only(false);
    request.mutable_grant()->set_epoch(epoch);
    request.mutable_grant()->set_lease_ms(600000);
    pb::Instance instance;
    grpc::ClientContext context;
    Prepare(context, absl::Seconds(30));
    grpc::Status s = stub->SetReadOnly(&context, request, &instance);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(instance.epoch(), epoch);
  };
  grant(*target_agent_, "dst-inst", 2);
  WriteFile(source_dir_ + "/kept.txt", "stale primary's version");
  WriteFile(source_dir_ + "/new.txt", "stale");
  fs::remove(source_dir_ + "/readme");
  WriteFile(target_dir_ + "/.shadowplane-sync-0123456789abcdef", "left by an earlier round");

  pb::SyncFromResponse refused;
  grpc::Status s = SyncFrom(Request(), &refused);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("epoch 2, newer than the source's 1"), std::string::npos)
      << s.error_message();
  // Nothing in the target was touched: no file changed, added or deleted, not even a leftover.
  EXPECT_EQ(ReadFileOrDie(target_dir_ + "/kept.txt"), "promoted's version");
  EXPECT_FALSE(fs::exists(target_dir_ + "/new.txt"));
  EXPECT_TRUE(fs::exists(target_dir_ + "/readme"));
  EXPECT_TRUE(fs::exists(target_dir_ + "/.shadowplane-sync-0123456789abcdef"));

  grant(*source_agent_, "src-inst", 3);  // the source takes over again
  pb::SyncFromResponse accepted;
  grpc::Status ok = SyncFrom(Request(), &accepted);
  ASSERT_TRUE(ok.ok()) << ok.error_message();
  EXPECT_EQ(ReadFileOrDie(target_dir_ + "/kept.txt"), "stale primary's version");
  EXPECT_FALSE(fs::exists(target_dir_ + "/readme"));
}

TEST_F(AgentSyncProcessTest, TargetKilledMidSyncLeavesNoTornOrTemporaryFiles) {
  const std::string old_version = RandomBytes(8 << 20, 10);
  WriteFile(target_dir_ + "/big.bin", old_version);
  WriteFile(source_dir_ + "/big.bin", RandomBytes(8 << 20, 11));  // nothing in common
  for (int i = 0; i < 24; ++i) {
    WriteFile(absl::StrCat(source_dir_, "/many/f", i), RandomBytes(6 << 20, 100 + i));
  }
  // Kill the target agent while its round runs (the round moves ~150 MB of literal data).
  std::thread round([&] {
    pb::SyncFromResponse response;
    SyncFrom(Request(), &response).error_code();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  target_agent_->Kill();
  round.join();
  EXPECT_NE(CompareTrees(source_dir_, target_dir_), "")
      << "the round finished before the kill: the test needs more data to move";
  // Whatever the round had done: every file is complete (old or new), never torn.
  std::string now = ReadFileOrDie(target_dir_ + "/big.bin");
  EXPECT_TRUE(now == old_version || now == ReadFileOrDie(source_dir_ + "/big.bin"));
  for (int i = 0; i < 24; ++i) {
    std::string path = absl::StrCat(target_dir_, "/many/f", i);
    if (fs::exists(path)) {
      EXPECT_EQ(ReadFileOrDie(path), ReadFileOrDie(absl::StrCat(source_dir_, "/many/f", i)))
          << path << " is torn";
    }
  }
  // Restarted, the agent removes what the killed round left, and the next round completes.
  ASSERT_TRUE(target_agent_->Start().ok());
  EXPECT_TRUE(testing::FindTemporaries(target_dir_).empty());
  pb::SyncFromResponse response;
  grpc::Status s = SyncFrom(Request(), &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(CompareTrees(source_dir_, target_dir_), "");
  EXPECT_TRUE(testing::FindTemporaries(target_dir_).empty());
}

}  // namespace
}  // namespace shadowplane
