#include "support/agent_under_test.h"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "support/local_ca.h"

namespace shadowplane::testing {

namespace fs = std::filesystem;

AgentUnderTest::AgentUnderTest(std::string binary, std::string root, std::string location)
    : binary_(std::move(binary)), root_(std::move(root)), location_(std::move(location)) {
  std::random_device rd;
  network_ = absl::StrCat("127.0.", 2 + rd() % 250);
  grpc_port_ = FreePort();
  metrics_port_ = FreePort();
  instance_port_ = FreePort();
}

AgentUnderTest::~AgentUnderTest() {
  process_.reset();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(data_root() + "/instances", ec)) {
    std::ifstream in(entry.path().string() + "/instance.pid");
    std::string text;
    int pid = 0;
    if (in >> text && absl::SimpleAtoi(text, &pid) && pid > 0) kill(pid, SIGKILL);
  }
}

absl::Status AgentUnderTest::Start(const std::vector<std::string>& env, absl::Duration timeout) {
  process_.reset();
  std::vector<std::string> argv = {binary_, absl::StrCat("--listen=127.0.0.1:", grpc_port_),
                                   absl::StrCat("--metrics_listen=127.0.0.1:", metrics_port_),
                                   "--location=" + location_, "--data_root=" + data_root(),
                                   // Tests seed from their temporary directories.
                                   "--seed_root=/tmp", "--instance_network=" + network_,
                                   absl::StrCat("--instance_port=", instance_port_),
                                   "--capacity_millicores=4000", "--capacity_memory_mib=4096",
                                   "--shutdown_grace=2s"};
  if (!control_plane_.empty()) argv.push_back("--control_plane=" + control_plane_);
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  if (!ChoosesTransport(argv)) argv.push_back("--insecure");
  auto process = ChildProcess::Start(argv, env);
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  if (!process_->WaitForOutput("shadowplane-agent started", timeout)) {
    return absl::DeadlineExceededError(absl::StrCat("agent did not start: ", process_->Output()));
  }
  return absl::OkStatus();
}

void AgentUnderTest::Kill() {
  if (process_ == nullptr) return;
  process_->Signal(SIGKILL);
  process_->WaitForExit(absl::Seconds(10));
}

std::string AgentUnderTest::endpoint() const { return absl::StrCat("127.0.0.1:", grpc_port_); }

}  // namespace shadowplane::testing
