#include "instance/file_server.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "support/child_process.h"

namespace shadowplane::instance {
namespace {

namespace fs = std::filesystem;

class FileServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("sp-fileserver");
    fs::create_directories(dir_ + "/data/sub");
    std::ofstream(dir_ + "/data/a.txt") << "alpha";
    config_.instance_id = "i-1";
    config_.resource_id = "r-1";
    config_.capacity = {1000, 128, CapacityType::kOnDemand};
    config_.read_only = false;
    config_.address = "127.0.0.1";
    // A port free a moment ago may be taken by a test running beside this one: try a few.
    absl::Status bound;
    for (int attempt = 0; attempt < 5; ++attempt) {
      config_.port = testing::FreePort();
      server_ = std::make_unique<FileServer>(dir_ + "/data", config_);
      bound = server_->Bind();
      if (bound.ok()) break;
    }
    ASSERT_TRUE(bound.ok()) << bound;
    thread_ = std::thread([this] { server_->Serve(); });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", config_.port);
  }
  void TearDown() override {
    server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string dir_;
  InstanceConfig config_;
  std::unique_ptr<FileServer> server_;
  std::thread thread_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(FileServerTest, PutReplacesAtomicallyAndDeleteRemoves) {
  auto created = client_->Put("/sub/deeper/c.txt", "one", "text/plain");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 201);
  auto replaced = client_->Put("/sub/deeper/c.txt", "two", "text/plain");
  ASSERT_TRUE(replaced);
  EXPECT_EQ(replaced->status, 204);
  EXPECT_EQ(client_->Get("/sub/deeper/c.txt")->body, "two");
  // No temporary files are left beside it.
  int entries = 0;
  for (const auto& e : fs::directory_iterator(dir_ + "/data/sub/deeper")) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  EXPECT_EQ(client_->Get("/sub/")->body, "deeper/\n");
  EXPECT_EQ(client_->Delete("/sub/deeper/c.txt")->status, 204);
  EXPECT_EQ(client_->Delete("/sub/deeper/c.txt")->status, 404);
  EXPECT_EQ(client_->Delete("/sub")->status, 409);
  EXPECT_EQ(client_->Put("/a.txt/x", "y", "text/plain")->status, 409);
}

TEST_F(FileServerTest, ReadOnlyRefusesWritesAndRateLimitApplies) {
  InstanceConfig shadow = config_;
  shadow.read_only = true;
  shadow.capacity.millicores = 2;  // 2 requests per second
  ASSERT_TRUE(server_->Reconfigure(shadow).ok());
  absl::SleepFor(absl::Seconds(1));  // let the bucket fill to its new burst
  auto put = client_->Put("/b.txt", "x", "text/plain");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 405);
  EXPECT_FALSE(fs::exists(dir_ + "/data/b.txt"));
  int limited = 0;
  for (int i = 0; i < 6; ++i) {
    auto res = client_->Get("/a.txt");
    ASSERT_TRUE(res);
    if (res->status == 429) {
      ++limited;
      EXPECT_EQ(res->get_header_value("Retry-After"), "1");
    }
  }
  EXPECT_GE(limited, 2);
  EXPECT_GE(server_->counters().rejected_rate_limited, limited);
  EXPECT_GT(server_->counters().bytes_sent, 0);
}

// The cutover relies on it: once a freeze is applied, no write lands locally any more, so a final
// sync that starts then copies every acknowledged write.
TEST_F(FileServerTest, AFreezeWaitsForTheWritesAlreadyAdmitted) {
  // A PUT whose body arrives slowly: admitted, then still receiving when the freeze comes.
  std::atomic<bool> body_sent{false};
  std::thread slow([&] {
    httplib::Client client("127.0.0.1", config_.port);
    auto res = client.Put(
        "/slow.txt", 6,
        [&](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write("abc", 3);
            return true;
          }
          absl::SleepFor(absl::Milliseconds(400));
          sink.write("def", 3);
          body_sent = true;
          return true;
        },
        "text/plain");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 201);
  });
  // Wait until the write is admitted (in flight), then freeze.
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (!absl::StrContains(client_->Get("/_shadowplane/status")->body, "\"writes_in_flight\":1") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  InstanceConfig frozen = config_;
  frozen.hold_writes = true;
  frozen.generation = 7;
  ASSERT_TRUE(server_->Reconfigure(frozen).ok());
  EXPECT_TRUE(body_sent.load()) << "returned before the admitted write was finished";
  std::string content;
  std::getline(std::ifstream(dir_ + "/data/slow.txt"), content);
  EXPECT_EQ(content, "abcdef");
  EXPECT_EQ(server_->applied_generation(), 7);
  slow.join();

  // A write that cannot finish in the bound: the freeze still applies to new writes, but it is not
  // reported as applied.
  InstanceConfig open = frozen;
  open.hold_writes = false;
  open.generation = 8;
  ASSERT_TRUE(server_->Reconfigure(open).ok());
  std::thread stuck([&] {
    httplib::Client client("127.0.0.1", config_.port);
    auto res = client.Put(
        "/stuck.txt", 6,
        [&](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset == 0) {
            sink.write("abc", 3);
            return true;
          }
          absl::SleepFor(absl::Milliseconds(600));
          sink.write("def", 3);
          return true;
        },
        "text/plain");
    ASSERT_TRUE(res);
  });
  while (!absl::StrContains(client_->Get("/_shadowplane/status")->body, "\"writes_in_flight\":1")) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  InstanceConfig read_only = open;
  read_only.read_only = true;
  read_only.generation = 9;
  EXPECT_EQ(server_->Reconfigure(read_only, absl::Milliseconds(50)).code(),
            absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(server_->applied_generation(), 8);
  EXPECT_EQ(client_->Put("/after.txt", "x", "text/plain")->status, 405);
  stuck.join();
}

TEST_F(FileServerTest, SecondServerOnTheSameAddressFailsToBind) {
  FileServer second(dir_ + "/data", config_);
  absl::Status bound = second.Bind();
  EXPECT_EQ(bound.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(bound.message(), "in use")) << bound;
}

}  // namespace
}  // namespace shadowplane::instance
