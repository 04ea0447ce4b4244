#include "support/child_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

extern char** environ;

namespace shadowplane::testing {

absl::StatusOr<std::unique_ptr<ChildProcess>> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::vector<std::string>& env) {
  char log_template[] = "/tmp/shadowplane-child-XXXXXX";
  const int log_fd = mkstemp(log_template);
  if (log_fd < 0) return absl::InternalError(absl::StrCat("mkstemp: ", strerror(errno)));
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const std::string& e : env) env_strings.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(args[0], args.data(), envp.data());
    _exit(127);
  }
  close(log_fd);
  return std::unique_ptr<ChildProcess>(new ChildProcess(pid, log_template));
}

ChildProcess::~ChildProcess() {
  if (running()) {
    kill(pid_, SIGKILL);
    WaitForExit(absl::Seconds(10));
  }
  unlink(log_.c_str());
}

void ChildProcess::Signal(int sig) {
  if (!exit_code_.has_value()) kill(pid_, sig);
}

std::optional<int> ChildProcess::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!exit_code_.has_value()) {
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      break;
    }
    if (r < 0) {
      exit_code_ = -1;
      break;
    }
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return exit_code_;
}

bool ChildProcess::running() { return !WaitForExit(absl::ZeroDuration()).has_value(); }

std::string ChildProcess::Output() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool ChildProcess::WaitForOutput(const std::string& text, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StrContains(Output(), text)) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::StrContains(Output(), text);
}

RunResult RunToCompletion(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                          absl::Duration timeout) {
  auto child = ChildProcess::Start(argv, env);
  if (!child.ok()) return {-2, std::string(child.status().message())};
  std::optional<int> code = (*child)->WaitForExit(timeout);
  return {code.value_or(-3), (*child)->Output()};
}

namespace {

// Whether a TCP listener could bind `port` on 127.0.0.1 now (0: any, *port set to the one given).
bool CanBind(int* port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(*port));
  bool bound = bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0;
  socklen_t len = sizeof(addr);
  if (bound && getsockname(fd, reinterpret_cast<struct sockaddr*>(&addr), &len) == 0) {
    *port = ntohs(addr.sin_port);
  }
  close(fd);
  return bound;
}

}  // namespace

// Below the kernel's ephemeral range (32768-60999 by default): a port from that range can be taken
// by any outgoing connection of a parallel test while a server that owned it restarts, so that it
// cannot listen there again. Here only another test's pick could collide, and picks are random.
int FreePort() {
  static std::atomic<uint64_t> state{static_cast<uint64_t>(getpid()) * 0x9E3779B97F4A7C15ull ^
                                     static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()))};
  for (int attempt = 0; attempt < 200; ++attempt) {
    uint64_t x = state.fetch_add(0x9E3779B97F4A7C15ull) + 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    int port = 20000 + static_cast<int>((x ^ (x >> 31)) % 12700);
    if (CanBind(&port)) return port;
  }
  int port = 0;  // every pick taken: whatever the kernel gives
  CanBind(&port);
  return port;
}

std::string MakeTempDir(const std::string& prefix) {
  std::string path = absl::StrCat("/tmp/", prefix, "-XXXXXX");
  if (mkdtemp(path.data()) == nullptr) return "";
  chmod(path.c_str(), 0755);
  return path;
}

}  // namespace shadowplane::testing
