#include "agent/instance_manager.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/instance_status_client.h"
#include "common/fault_point.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "instance/forward_auth.h"
#include "providers/endpoint.h"

namespace shadowplane::agent {

namespace fs = std::filesystem;

struct InstanceManager::Managed {
  instance::InstanceConfig config;
  InstanceState state = InstanceState::kStopped;
  pid_t pid = 0;
  bool is_child = false;  // false for instances adopted from an earlier agent
  int64_t restarts = 0;
  absl::Time started_at = absl::InfinitePast();
  absl::Time restart_at = absl::InfinitePast();
  Backoff backoff{absl::Milliseconds(200), absl::Seconds(30)};
  // Last counters read from the instance, to turn its totals into deltas for our counters.
  int64_t requests = 0;
  int64_t bytes_received = 0;
  int64_t bytes_sent = 0;
};

namespace {

constexpr absl::Duration kStableAfter = absl::Seconds(30);

// Whether `pid` is the shadowplane-instance serving `dir` (a recycled pid is something else).
bool IsInstanceProcess(pid_t pid, const std::string& dir) {
  if (pid <= 0 || kill(pid, 0) != 0) return false;
  std::ifstream in(absl::StrCat("/proc/", pid, "/cmdline"), std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return absl::StrContains(cmdline, absl::StrCat("--instance_dir=", dir));
}

absl::Status ValidateGrant(const WriteGrant& grant) {
  if (grant.epoch < 1) {
    return absl::InvalidArgumentError(
        "grant.epoch: a read-write instance needs write authority of epoch 1 or more");
  }
  return absl::OkStatus();
}

// Applies `grant` to `config` unless it is older than what it holds; true when it changed.
bool Take(const WriteGrant& grant, instance::InstanceConfig& config) {
  if (grant.epoch < config.epoch) return false;
  const int64_t until = absl::ToUnixMillis(grant.lease_until);
  if (grant.epoch == config.epoch && until <= config.write_lease_until_ms) return false;
  if (grant.epoch > config.epoch) config.write_lease_until_ms = 0;
  config.epoch = grant.epoch;
  config.write_lease_until_ms = std::max(config.write_lease_until_ms, until);
  return true;
}

}  // namespace

const char* InstanceStateName(InstanceState state) {
  switch (state) {
    case InstanceState::kStarting:
      return "starting";
    case InstanceState::kRunning:
      return "running";
    case InstanceState::kRestarting:
      return "restarting";
    case InstanceState::kStopped:
      return "stopped";
  }
  return "stopped";
}

std::string InstanceView::endpoint() const {
  return absl::StrCat(config.address, ":", config.port);
}

absl::Status ValidateInstanceId(const std::string& id, const std::string& field) {
  const bool ok = !id.empty() && id.size() <= 64 && id[0] != '-' &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
                  });
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " '", id, "' must be 1 to 64 lower-case letters, digits or '-' (a UUID fits)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<InstanceManager>> InstanceManager::Open(
    InstanceManagerOptions options, prometheus::Registry* registry) {
  std::error_code ec;
  fs::create_directories(options.data_root + "/instances", ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("data root ", options.data_root, " cannot be created: ", ec.message()));
  }
  const std::string probe = options.data_root + "/instances/.write-test";
  if (absl::Status s = WriteFileAtomically(probe, "ok\n"); !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("data root ", options.data_root, " is not writable: ", s.message()));
  }
  unlink(probe.c_str());
  if (access(options.instance_binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("instance binary ", options.instance_binary,
                                                      " is not executable: ", strerror(errno)));
  }
  std::unique_ptr<InstanceManager> manager(new InstanceManager(std::move(options)));
  if (registry != nullptr) {
    manager->state_gauges_ = &prometheus::BuildGauge()
                                  .Name("shadowplane_agent_instances")
                                  .Help("Instances at this agent, by state")
                                  .Register(*registry);
    manager->restarts_total_ = &prometheus::BuildCounter()
                                    .Name("shadowplane_agent_instance_restarts_total")
                                    .Help("Instance processes restarted after they died")
                                    .Register(*registry)
                                    .Add({});
    auto& bytes = prometheus::BuildCounter()
                      .Name("shadowplane_agent_instance_bytes_total")
                      .Help("HTTP bytes the instances sent and received, headers included")
                      .Register(*registry);
    manager->bytes_sent_total_ = &bytes.Add({{"direction", "sent"}});
    manager->bytes_received_total_ = &bytes.Add({{"direction", "received"}});
    manager->requests_total_ = &prometheus::BuildCounter()
                                    .Name("shadowplane_agent_instance_requests_total")
                                    .Help("HTTP requests the instances served")
                                    .Register(*registry)
                                    .Add({});
  }
  RETURN_IF_ERROR(manager->Adopt());
  manager->supervisor_ = std::thread([m = manager.get()] { m->Supervise(); });
  return manager;
}

InstanceManager::InstanceManager(InstanceManagerOptions options)
    : options_(std::move(options)),
      layout_(options_.data_root),
      ledger_(options_.location, options_.capacity_millicores, options_.capacity_memory_mib,
              options_.instance_network) {}

InstanceManager::~InstanceManager() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (supervisor_.joinable()) supervisor_.join();
  // Reap children that already exited; running ones are left to serve.
  absl::MutexLock lock(&mu_);
  for (auto& [id, m] : instances_) {
    if (m->is_child && m->pid > 0) waitpid(m->pid, nullptr, WNOHANG);
  }
}

Capacity InstanceManager::total() const { return ledger_.total(); }

Capacity InstanceManager::used() {
  absl::MutexLock lock(&mu_);
  Capacity used;
  for (const auto& [id, m] : instances_) {
    if (!m->config.active) continue;
    used.millicores += m->config.capacity.millicores;
    used.memory_mib += m->config.capacity.memory_mib;
  }
  return used;
}

absl::Status InstanceManager::Adopt() {
  absl::MutexLock lock(&mu_);
  for (const auto& entry : fs::directory_iterator(layout_.instances_dir())) {
    const std::string name = entry.path().filename().string();
    if (InstanceLayout::IsStaging(name)) {
      // A create that died half-way: nothing was ever promised for it.
      std::error_code ec;
      fs::remove_all(entry.path(), ec);
      LOG_EVENT(kWarning, "removed a half-created instance").Field("dir", entry.path().string());
      continue;
    }
    if (!entry.is_directory() || absl::StartsWith(name, ".")) continue;
    auto config = instance::LoadInstanceConfig(entry.path().string() + "/instance.yaml");
    if (!config.ok()) {
      LOG_EVENT(kError, "skipping unreadable instance").Field("error", config.status());
      continue;
    }
    auto m = std::make_unique<Managed>();
    m->config = *config;
    m->backoff = Backoff(options_.restart_backoff_initial, options_.restart_backoff_max);
    const std::string dir = layout_.Dir(name);
    // An instance from before agent keys: given one now (a running one rereads its config when
    // the agent next reconfigures it; until then its client views refuse the agent too).
    bool keyed = false;
    if (m->config.agent_key.empty()) {
      m->config.agent_key = instance::NewSecret();
      if (absl::Status saved = instance::SaveInstanceConfig(m->config, layout_.ConfigPath(name));
          !saved.ok()) {
        LOG_EVENT(kError, "instance not given an agent key").Field("error", saved);
      }
      keyed = true;
    }
    if (m->config.active) {
      pid_t pid = 0;
      auto pid_text = ReadFile(layout_.PidPath(name));
      int parsed = 0;
      if (pid_text.ok() && absl::SimpleAtoi(absl::StripAsciiWhitespace(*pid_text), &parsed)) {
        pid = parsed;
      }
      if (IsInstanceProcess(pid, dir)) {
        m->pid = pid;
        m->is_child = false;
        m->state = InstanceState::kRunning;
        m->started_at = absl::Now();
        LOG_EVENT(kInfo, "adopted running instance").Field("instance_id", name).Field("pid", pid);
        if (keyed) Signal(*m, SIGHUP);
      } else if (absl::Status s = Launch(*m); !s.ok()) {
        LOG_EVENT(kError, "instance failed to start").Field("instance_id", name).Field("error", s);
        m->state = InstanceState::kRestarting;
        m->restart_at = absl::Now() + m->backoff.Next();
      }
    }
    instances_[name] = std::move(m);
  }
  UpdateStateGauges();
  return absl::OkStatus();
}

absl::Status InstanceManager::Launch(Managed& m) {
  const std::string dir = layout_.Dir(m.config.instance_id);
  const std::string log_path = layout_.LogPath(m.config.instance_id);
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open ", log_path, ": ", strerror(errno)));
  }
  const off_t log_start = lseek(log_fd, 0, SEEK_END);
  const std::string binary = options_.instance_binary;
  const std::string dir_flag = "--instance_dir=" + dir;
  m.state = InstanceState::kStarting;
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // A session of its own: the instance keeps serving when the agent stops or dies.
    setsid();
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    closefrom(3);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(binary.c_str(), binary.c_str(), dir_flag.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  close(log_fd);
  m.pid = pid;
  m.is_child = true;
  if (absl::Status s =
          WriteFileAtomically(layout_.PidPath(m.config.instance_id), absl::StrCat(pid, "\n"));
      !s.ok()) {
    LOG_EVENT(kError, "cannot write pid file").Field("error", s);
  }
  // Ready once it answers as itself; if it exits first, say why.
  const absl::Time deadline = absl::Now() + options_.start_timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      m.pid = 0;
      m.state = InstanceState::kStopped;
      // Its own last words: the last line it wrote since this launch.
      std::string output;
      auto whole = ReadFile(log_path);
      if (whole.ok() && static_cast<size_t>(log_start) <= whole->size()) {
        output = std::string(absl::StripTrailingAsciiWhitespace(whole->substr(log_start)));
      }
      const size_t last_line = output.rfind('\n');
      const std::string reason =
          last_line == std::string::npos ? output : output.substr(last_line + 1);
      const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (code == 3) return absl::FailedPreconditionError(reason);
      return absl::InternalError(
          absl::StrCat("instance exited at start (code ", code, "): ", reason));
    }
    if (InstanceStatusClient(m.config.address, m.config.port, absl::Seconds(1)).ServesAs(pid)) {
      m.state = InstanceState::kRunning;
      m.started_at = absl::Now();
      m.requests = m.bytes_received = m.bytes_sent = 0;
      return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  m.pid = 0;
  m.state = InstanceState::kStopped;
  return absl::DeadlineExceededError(absl::StrCat("instance did not listen on ", m.config.address,
                                                  ":", m.config.port, " within ",
                                                  absl::FormatDuration(options_.start_timeout)));
}

bool InstanceManager::Alive(Managed& m) {
  if (m.pid <= 0) return false;
  if (m.is_child) {
    int status = 0;
    const pid_t r = waitpid(m.pid, &status, WNOHANG);
    return r == 0;
  }
  return IsInstanceProcess(m.pid, layout_.Dir(m.config.instance_id));
}

void InstanceManager::Signal(Managed& m, int sig) {
  if (m.pid > 0) kill(m.pid, sig);
}

absl::Status InstanceManager::StopProcess(Managed& m) {
  if (!Alive(m)) {
    m.pid = 0;
    m.state = InstanceState::kStopped;
    return absl::OkStatus();
  }
  Signal(m, SIGTERM);
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  while (absl::Now() < deadline && Alive(m)) absl::SleepFor(absl::Milliseconds(20));
  if (Alive(m)) {
    Signal(m, SIGKILL);
    if (m.is_child) waitpid(m.pid, nullptr, 0);
  }
  m.pid = 0;
  m.state = InstanceState::kStopped;
  unlink(layout_.PidPath(m.config.instance_id).c_str());
  return absl::OkStatus();
}

absl::StatusOr<InstanceManager::Managed*> InstanceManager::Find(const std::string& id) {
  RETURN_IF_ERROR(ValidateInstanceId(id, "instance_id"));
  auto it = instances_.find(id);
  if (it == instances_.end()) {
    return absl::NotFoundError(
        absl::StrCat("no instance ", id, " at location ", options_.location));
  }
  return it->second.get();
}

absl::Status InstanceManager::CheckCapacity(const Capacity& wanted, const std::string& replacing) {
  std::map<std::string, Capacity> active;
  for (const auto& [id, m] : instances_) {
    if (m->config.active) active[id] = m->config.capacity;
  }
  return ledger_.CheckFits(active, wanted, replacing);
}

absl::StatusOr<std::string> InstanceManager::AllocateAddress() {
  std::set<std::string> taken;
  for (const auto& [id, m] : instances_) {
    if (m->config.active) taken.insert(m->config.address);
  }
  return ledger_.AllocateAddress(taken);
}

absl::Status InstanceManager::SaveAndReload(Managed& m) {
  m.config.generation++;
  RETURN_IF_ERROR(instance::SaveInstanceConfig(m.config, layout_.ConfigPath(m.config.instance_id)));
  if (Alive(m)) Signal(m, SIGHUP);
  return absl::OkStatus();
}

InstanceView InstanceManager::View(const Managed& m) const {
  InstanceView v;
  v.config = m.config;
  v.state = m.state;
  v.pid = m.pid;
  v.restarts = m.restarts;
  v.requests = m.requests;
  v.bytes_received = m.bytes_received;
  v.bytes_sent = m.bytes_sent;
  v.data_dir = layout_.DataDir(m.config.instance_id);
  return v;
}

absl::StatusOr<InstanceView> InstanceManager::Create(const CreateInstanceSpec& spec) {
  RETURN_IF_ERROR(ValidateInstanceId(spec.instance_id, "instance_id"));
  RETURN_IF_ERROR(ValidateInstanceId(spec.resource_id, "resource_id"));
  RETURN_IF_ERROR(ValidateCapacity(spec.capacity, "capacity"));
  if (!spec.read_only) RETURN_IF_ERROR(ValidateGrant(spec.grant));
  if (!spec.forward_secret.empty() && !instance::IsSecret(spec.forward_secret)) {
    return absl::InvalidArgumentError("forward_secret must be 64 hex digits");
  }
  // Copied from its real path, checked once: a link swapped in later changes nothing.
  std::string seed;
  if (!spec.seed_dir.empty()) {
    ASSIGN_OR_RETURN(seed, CheckSeedDir(spec.seed_dir, options_.seed_root, options_.data_root));
  }
  // A new instance's data is copied before the lock is taken: a large seed would otherwise hold
  // up every other call to this agent (status, leases, other creates) for as long as it copies.
  // Not for a retried create, which copies nothing. What is not committed is discarded, after the
  // lock is released.
  std::string staging;
  absl::Cleanup discard = [&] {
    if (!staging.empty()) layout_.Discard(staging);
  };
  bool exists;
  {
    absl::MutexLock lock(&mu_);
    exists = instances_.count(spec.instance_id) > 0;
  }
  if (!exists) {
    ASSIGN_OR_RETURN(staging, layout_.StageData(spec.instance_id, seed));
  }

  absl::MutexLock lock(&mu_);
  if (auto it = instances_.find(spec.instance_id); it != instances_.end()) {
    Managed& m = *it->second;
    if (m.config.resource_id != spec.resource_id || !(m.config.capacity == spec.capacity) ||
        m.config.read_only != spec.read_only) {
      return absl::AlreadyExistsError(absl::StrCat(
          "instance ", spec.instance_id, " exists with a different resource, capacity or mode"));
    }
    // The resource's secret, once known, is the instance's for good.
    const bool learns_secret = m.config.forward_secret.empty() && !spec.forward_secret.empty();
    if (learns_secret) m.config.forward_secret = spec.forward_secret;
    if (m.config.active) {  // a retried create
      const bool granted = !spec.read_only && Take(spec.grant, m.config);
      if (granted || learns_secret) RETURN_IF_ERROR(SaveAndReload(m));
      return View(m);
    }
    RETURN_IF_ERROR(CheckCapacity(spec.capacity, spec.instance_id));
    ASSIGN_OR_RETURN(m.config.address, AllocateAddress());
    m.config.active = true;
    if (!spec.read_only) Take(spec.grant, m.config);
    RETURN_IF_ERROR(SaveAndReload(m));
    RETURN_IF_ERROR(Launch(m));
    UpdateStateGauges();
    return View(m);
  }
  RETURN_IF_ERROR(CheckCapacity(spec.capacity, ""));
  auto m = std::make_unique<Managed>();
  m->backoff = Backoff(options_.restart_backoff_initial, options_.restart_backoff_max);
  m->config.instance_id = spec.instance_id;
  m->config.resource_id = spec.resource_id;
  m->config.capacity = spec.capacity;
  m->config.read_only = spec.read_only;
  if (!spec.read_only) Take(spec.grant, m->config);
  m->config.active = true;
  m->config.port = options_.instance_port;
  m->config.record_accesses = options_.record_accesses;
  m->config.trusted_proxies = options_.trusted_proxies;
  m->config.forward_secret = spec.forward_secret;
  m->config.agent_key = instance::NewSecret();
  ASSIGN_OR_RETURN(m->config.address, AllocateAddress());

  // Built aside, then renamed into place: an instance directory is always whole. (Staged under
  // the lock only when the instance was deleted between the look above and now.)
  const std::string dir = layout_.Dir(spec.instance_id);
  if (staging.empty()) {
    ASSIGN_OR_RETURN(staging, layout_.StageData(spec.instance_id, seed));
  }
  const absl::Status committed = layout_.Commit(staging, m->config);
  staging.clear();  // committed, or removed by Commit()
  RETURN_IF_ERROR(committed);

  if (absl::Status s = Launch(*m); !s.ok()) {
    std::error_code ec;
    fs::remove_all(dir, ec);  // no half-created instance
    return s;
  }
  FaultPoint("agent.create.after_launch");
  LOG_EVENT(kInfo, "instance created")
      .Field("instance_id", spec.instance_id)
      .Field("resource_id", spec.resource_id)
      .Field("endpoint", absl::StrCat(m->config.address, ":", m->config.port))
      .Field("read_only", spec.read_only)
      .Field("seeded", !spec.seed_dir.empty());
  InstanceView view = View(*m);
  instances_[spec.instance_id] = std::move(m);
  UpdateStateGauges();
  return view;
}

absl::StatusOr<InstanceView> InstanceManager::Scale(const std::string& id,
                                                    const Capacity& capacity) {
  RETURN_IF_ERROR(ValidateCapacity(capacity, "capacity"));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Managed * m, Find(id));
  if (!m->config.active) {
    return absl::FailedPreconditionError(absl::StrCat("instance ", id, " is deactivated"));
  }
  RETURN_IF_ERROR(CheckCapacity(capacity, id));
  m->config.capacity = capacity;
  RETURN_IF_ERROR(SaveAndReload(*m));
  FaultPoint("agent.scale.after_save");
  LOG_EVENT(kInfo, "instance scaled")
      .Field("instance_id", id)
      .Field("millicores", capacity.millicores)
      .Field("memory_mib", capacity.memory_mib);
  return View(*m);
}

absl::StatusOr<InstanceView> InstanceManager::SetReadOnly(const std::string& id, bool read_only,
                                                          const WriteGrant& grant) {
  if (!read_only) RETURN_IF_ERROR(ValidateGrant(grant));
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Managed * m, Find(id));
    if (!read_only && grant.epoch < m->config.epoch) {
      return absl::FailedPreconditionError(
          absl::StrCat("instance ", id, " was granted epoch ", m->config.epoch,
                       " already; a grant of epoch ", grant.epoch, " is stale"));
    }
    m->config.read_only = read_only;
    if (!read_only) Take(grant, m->config);
    RETURN_IF_ERROR(SaveAndReload(*m));
    FaultPoint(read_only ? "agent.read_only.after_save" : "agent.writable.after_save");
    LOG_EVENT(kInfo, "instance mode changed")
        .Field("instance_id", id)
        .Field("read_only", read_only);
  }
  return AwaitApplied(id);
}

absl::Status InstanceManager::ExtendLease(const std::string& id, int64_t epoch, absl::Time until) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Managed * m, Find(id));
  if (!m->config.active || m->config.read_only || m->config.epoch != epoch) {
    return absl::FailedPreconditionError(
        absl::StrCat("instance ", id, " is not read-write in epoch ", epoch));
  }
  if (!Take(WriteGrant{epoch, until}, m->config)) return absl::OkStatus();
  return SaveAndReload(*m);
}

absl::StatusOr<InstanceView> InstanceManager::Fence(const std::string& id, int64_t generation,
                                                    int64_t current_epoch) {
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Managed * m, Find(id));
    if (m->config.read_only || m->config.generation != generation) return View(*m);
    m->config.read_only = true;
    RETURN_IF_ERROR(SaveAndReload(*m));
    LOG_EVENT(kWarning, "instance fenced: its resource's writes were granted elsewhere")
        .Field("instance_id", id)
        .Field("epoch", m->config.epoch)
        .Field("current_epoch", current_epoch);
  }
  return AwaitApplied(id);
}

absl::StatusOr<InstanceView> InstanceManager::AwaitApplied(const std::string& id) {
  std::string address;
  int port;
  int64_t wanted;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Managed * m, Find(id));
    // A process that is not running reads the config when it starts: nothing to wait for.
    if (m->state != InstanceState::kRunning) return View(*m);
    address = m->config.address;
    port = m->config.port;
    wanted = m->config.generation;
  }
  InstanceStatusClient client(address, port, absl::Seconds(1));
  if (absl::Status s = client.AwaitGeneration(wanted, absl::Now() + options_.apply_timeout);
      !s.ok()) {
    return absl::UnavailableError(
        absl::StrCat("instance ", id, " has not applied its new config (generation ", wanted,
                     ") within ", absl::FormatDuration(options_.apply_timeout),
                     ": writes it had admitted may still be running; retry"));
  }
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Managed * m, Find(id));
  return View(*m);
}

absl::StatusOr<InstanceView> InstanceManager::SetWriteRouting(const std::string& id,
                                                              bool hold_writes, int hold_ms,
                                                              const std::string& forward_writes_to,
                                                              const std::string& forward_secret) {
  if (hold_ms == 0) hold_ms = 5000;
  if (hold_ms < 1 || hold_ms > 60000) {
    return absl::InvalidArgumentError(
        absl::StrCat("hold_ms must be within [1, 60000], got ", hold_ms));
  }
  if (!forward_writes_to.empty()) {
    RETURN_IF_ERROR(providers::ParseEndpoint(forward_writes_to, "forward_writes_to").status());
  }
  if (!forward_secret.empty() && !instance::IsSecret(forward_secret)) {
    return absl::InvalidArgumentError("forward_secret must be 64 hex digits");
  }
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Managed * m, Find(id));
    m->config.hold_writes = hold_writes;
    m->config.write_hold_ms = hold_ms;
    m->config.forward_writes_to = forward_writes_to;
    if (!forward_secret.empty()) m->config.forward_secret = forward_secret;
    // One reconfiguration, not two: it sits inside a cutover's freeze.
    if (!forward_writes_to.empty()) m->config.read_only = true;
    RETURN_IF_ERROR(SaveAndReload(*m));
    FaultPoint(hold_writes ? "agent.freeze.after_save" : "agent.write_routing.after_save");
    LOG_EVENT(kInfo, "instance write routing changed")
        .Field("instance_id", id)
        .Field("hold_writes", hold_writes)
        .Field("forward_writes_to", forward_writes_to);
  }
  return AwaitApplied(id);
}

absl::StatusOr<InstanceView> InstanceManager::Deactivate(const std::string& id, bool delete_data) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Managed * m, Find(id));
  // Persist the intent first: an agent restarted mid-way must not start it again.
  m->config.active = false;
  if (!delete_data) {
    RETURN_IF_ERROR(instance::SaveInstanceConfig(m->config, layout_.ConfigPath(id)));
  }
  RETURN_IF_ERROR(StopProcess(*m));
  InstanceView view = View(*m);
  if (delete_data) {
    // Renamed away first, so the removal is atomic to readers and to Adopt().
    RETURN_IF_ERROR(layout_.Remove(id));
    instances_.erase(id);
  }
  UpdateStateGauges();
  LOG_EVENT(kInfo, "instance deactivated")
      .Field("instance_id", id)
      .Field("data_deleted", delete_data);
  return view;
}

absl::StatusOr<InstanceView> InstanceManager::Describe(const std::string& id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(Managed * m, Find(id));
  return View(*m);
}

absl::StatusOr<instance::DisruptionReport> InstanceManager::Disruptions(const std::string& id,
                                                                        absl::Time since) {
  std::string address, agent_key;
  int port;
  {
    absl::MutexLock lock(&mu_);
    ASSIGN_OR_RETURN(Managed * m, Find(id));
    if (m->state != InstanceState::kRunning) {
      return absl::UnavailableError(
          absl::StrCat("instance ", id, " is ", InstanceStateName(m->state), ", not running"));
    }
    address = m->config.address;
    port = m->config.port;
    agent_key = m->config.agent_key;
  }
  return InstanceStatusClient(address, port, absl::Seconds(2), agent_key).Disruptions(since);
}

std::vector<InstanceView> InstanceManager::List() {
  absl::MutexLock lock(&mu_);
  std::vector<InstanceView> views;
  for (const auto& [id, m] : instances_) views.push_back(View(*m));
  return views;
}

void InstanceManager::UpdateStateGauges() {
  if (state_gauges_ == nullptr) return;
  std::map<InstanceState, int> counts;
  for (const auto& [id, m] : instances_) counts[m->state]++;
  for (InstanceState s : {InstanceState::kStarting, InstanceState::kRunning,
                          InstanceState::kRestarting, InstanceState::kStopped}) {
    state_gauges_->Add({{"state", InstanceStateName(s)}}).Set(counts[s]);
  }
}

void InstanceManager::Supervise() {
  absl::Time next_poll = absl::Now();
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.poll_interval)) return;
      const absl::Time now = absl::Now();
      for (auto& [id, m] : instances_) {
        if (!m->config.active) continue;
        if (m->state == InstanceState::kRunning && !Alive(*m)) {
          m->pid = 0;
          m->state = InstanceState::kRestarting;
          if (now - m->started_at > kStableAfter) m->backoff.Reset();
          const absl::Duration delay = m->backoff.Next();
          m->restart_at = now + delay;
          LOG_EVENT(kWarning, "instance died, restarting")
              .Field("instance_id", id)
              .Field("restart_in_seconds", delay);
        }
        if (m->state == InstanceState::kRestarting && now >= m->restart_at) {
          m->restarts++;
          if (restarts_total_ != nullptr) restarts_total_->Increment();
          if (absl::Status s = Launch(*m); !s.ok()) {
            m->state = InstanceState::kRestarting;
            m->restart_at = absl::Now() + m->backoff.Next();
            LOG_EVENT(kError, "instance restart failed").Field("instance_id", id).Field("error", s);
          } else {
            LOG_EVENT(kInfo, "instance restarted").Field("instance_id", id).Field("pid", m->pid);
          }
        }
      }
      UpdateStateGauges();
    }
    if (absl::Now() >= next_poll) {
      PollCounters();
      next_poll = absl::Now() + absl::Seconds(1);
    }
  }
}

void InstanceManager::PollCounters() {
  struct Target {
    std::string id, address;
    int port;
  };
  std::vector<Target> targets;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, m] : instances_) {
      if (m->state == InstanceState::kRunning) {
        targets.push_back({id, m->config.address, m->config.port});
      }
    }
  }
  for (const Target& t : targets) {
    absl::StatusOr<InstanceStatus> status =
        InstanceStatusClient(t.address, t.port, absl::Milliseconds(500)).Get();
    if (!status.ok()) continue;
    const int64_t requests = status->requests;
    const int64_t received = status->bytes_received;
    const int64_t sent = status->bytes_sent;
    absl::MutexLock lock(&mu_);
    auto it = instances_.find(t.id);
    if (it == instances_.end()) continue;
    Managed& m = *it->second;
    // An instance's totals restart from zero with its process: then the whole total is new.
    auto delta = [](int64_t now, int64_t before) { return now >= before ? now - before : now; };
    if (requests_total_ != nullptr) {
      requests_total_->Increment(static_cast<double>(delta(requests, m.requests)));
      bytes_received_total_->Increment(static_cast<double>(delta(received, m.bytes_received)));
      bytes_sent_total_->Increment(static_cast<double>(delta(sent, m.bytes_sent)));
    }
    m.requests = requests;
    m.bytes_received = received;
    m.bytes_sent = sent;
  }
}

}  // namespace shadowplane::agent
