#include "store/embedded_postgres.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/file_util.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/subprocess.h"
#include "common/unique_fd.h"
#include "store/database_error.h"

namespace shadowplane::store {
namespace {

namespace fs = std::filesystem;

constexpr int kPort = 5432;             // only names the socket file: TCP is off
constexpr size_t kMaxSocketPath = 107;  // sizeof(sockaddr_un::sun_path) - 1

struct UserIds {
  uid_t uid;
  gid_t gid;
};

absl::StatusOr<UserIds> LookupUser(const std::string& name) {
  struct passwd pw;
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwnam_r(name.c_str(), &pw, buf, sizeof(buf), &found) != 0 || found == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "PostgreSQL refuses to run as root, and the system user '", name,
        "' that should run it does not exist: run deploy/install-deps.sh, or create it with "
        "useradd --system --user-group --no-create-home ",
        name));
  }
  return UserIds{pw.pw_uid, pw.pw_gid};
}

// Whether `ids` may search (traverse) directory `path`, judged by its mode bits.
bool CanSearch(const std::string& path, const UserIds& ids, struct stat* st) {
  if (stat(path.c_str(), st) != 0) return false;
  if (st->st_uid == ids.uid) return (st->st_mode & S_IXUSR) != 0;
  if (st->st_gid == ids.gid) return (st->st_mode & S_IXGRP) != 0;
  return (st->st_mode & S_IXOTH) != 0;
}

absl::Status MakeOwnedDir(const std::string& path, const std::optional<UserIds>& owner,
                          bool create = true) {
  if (create && mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create directory ", path, ": ", strerror(errno)));
  }
  // Changed through a descriptor of the directory itself, never through a path a link could
  // redirect: the socket directory may sit in /tmp, where anyone may plant a link (or a
  // directory of their own) under the predictable name, and chown/chmod run as root.
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        path, " is not a directory (a symbolic link, or another kind of file): remove it"));
  }
  UniqueFd dir(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot stat ", path, ": ", strerror(errno)));
  }
  if (st.st_uid != geteuid() && !(owner.has_value() && st.st_uid == owner->uid)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " belongs to uid ", st.st_uid,
                     ", neither this process nor the database user: "
                     "remove it"));
  }
  if (owner.has_value() && fchown(fd, owner->uid, owner->gid) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot give ", path, " to the database user: ", strerror(errno)));
  }
  if (fchmod(fd, 0700) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot set mode 0700 on ", path, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

// The socket directory under /tmp for a data directory whose own "run" would make too long a
// socket path. Its name is random (mkdtemp), so that no other user can take it first or plant a
// link there, and recorded in the data directory (`run.socket_dir`) so that the next start finds a
// cluster left running. A recorded directory that is gone, or is no longer ours (a link, another
// user's), is replaced by a new one.
absl::StatusOr<std::string> ShortSocketDir(const std::string& data_dir,
                                           const std::optional<UserIds>& owner) {
  const std::string record = data_dir + "/run.socket_dir";
  const std::string prefix = absl::StrFormat("/tmp/shadowplane-%d-", geteuid());
  if (absl::StatusOr<std::string> recorded = ReadFileUpTo(record, 256); recorded.ok()) {
    const std::string path(absl::StripAsciiWhitespace(*recorded));
    if (absl::StartsWith(path, prefix) && path.find('/', prefix.size()) == std::string::npos &&
        MakeOwnedDir(path, owner, /*create=*/false).ok()) {
      return path;
    }
  }
  std::string path = prefix + "XXXXXX";
  if (mkdtemp(path.data()) == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create a socket directory under /tmp: ", strerror(errno)));
  }
  RETURN_IF_ERROR(MakeOwnedDir(path, owner));
  RETURN_IF_ERROR(WriteFileAtomically(record, path + "\n", 0600));
  return path;
}

// First line of a PostgreSQL lock file (postmaster.pid, .s.PGSQL.N.lock) is the owner's pid.
int ReadLockPid(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int pid = 0;
  if (in && std::getline(in, line) && absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &pid)) {
    return pid;
  }
  return 0;
}

// A pid names our postmaster only if that process is postgres working in our cluster directory:
// after a crash and reboot the pid may belong to anything.
bool IsPostmasterOf(int pid, const std::string& cluster_dir) {
  if (pid <= 0) return false;
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  if (!comm || !std::getline(comm, name) || name != "postgres") return false;
  std::error_code ec;
  const fs::path cwd = fs::read_symlink(absl::StrCat("/proc/", pid, "/cwd"), ec);
  return !ec && fs::equivalent(cwd, cluster_dir, ec);
}

}  // namespace

std::string EmbeddedPostgres::DefaultDataDir() {
  if (geteuid() == 0) return "/var/lib/shadowplane";
  if (const char* xdg = getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return absl::StrCat(xdg, "/shadowplane");
  }
  if (const char* home = getenv("HOME"); home != nullptr && *home != '\0') {
    return absl::StrCat(home, "/.local/share/shadowplane");
  }
  return "shadowplane-data";
}

absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> EmbeddedPostgres::Start(
    EmbeddedPostgresOptions options) {
  std::unique_ptr<EmbeddedPostgres> pg(new EmbeddedPostgres(std::move(options)));
  RETURN_IF_ERROR(pg->Prepare());
  RETURN_IF_ERROR(pg->InitCluster());
  if (pg->IsRunning()) {
    pg->adopted_ = true;
    pg->running_ = true;
    LOG_EVENT(kWarning, "adopting a PostgreSQL cluster left running by an earlier process")
        .Field("cluster_dir", pg->cluster_dir_)
        .Field("pid", pg->postmaster_pid());
  } else {
    RETURN_IF_ERROR(pg->ClearStaleLocks());
    RETURN_IF_ERROR(pg->StartServer());
  }
  RETURN_IF_ERROR(pg->EnsureDatabase());
  return pg;
}

EmbeddedPostgres::~EmbeddedPostgres() {
  if (absl::Status s = Stop(); !s.ok()) {
    LOG_EVENT(kError, "stopping embedded PostgreSQL failed").Field("error", s);
  }
}

absl::Status EmbeddedPostgres::Prepare() {
  if (options_.data_dir.empty()) options_.data_dir = DefaultDataDir();
  std::error_code ec;
  std::string data_dir = fs::absolute(options_.data_dir, ec).lexically_normal().string();
  if (data_dir.size() > 1 && data_dir.back() == '/') data_dir.pop_back();
  options_.data_dir = data_dir;
  const std::string& dir = options_.data_dir;
  fs::create_directories(dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("--data_dir ", dir, " cannot be created: ", ec.message()));
  }
  if (access(dir.c_str(), W_OK | X_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("--data_dir ", dir,
                                                      " is not writable by this process (uid ",
                                                      geteuid(), "): ", strerror(errno)));
  }

  std::optional<UserIds> owner;
  if (geteuid() == 0) {
    ASSIGN_OR_RETURN(owner, LookupUser(options_.system_user));
    run_as_ = options_.system_user;
    // The database user must be able to walk from / down to the data directory.
    std::string path;
    for (const fs::path& part : fs::path(dir)) {
      path = (fs::path(path) / part).string();
      struct stat st;
      if (!CanSearch(path, *owner, &st)) {
        return absl::FailedPreconditionError(absl::StrFormat(
            "--data_dir %s is not reachable by the database user '%s' (uid %d): %s has mode %04o "
            "and belongs to uid %d. PostgreSQL refuses to run as root, so it runs as '%s'; choose "
            "a data directory that user can reach, such as %s (the default for root)",
            dir, options_.system_user, owner->uid, path, st.st_mode & 07777, st.st_uid,
            options_.system_user, DefaultDataDir()));
      }
    }
  }

  cluster_dir_ = dir + "/postgres";
  log_file_ = dir + "/log/postgresql.log";
  RETURN_IF_ERROR(MakeOwnedDir(dir + "/log", owner));
  socket_dir_ = dir + "/run";
  if (socket_dir_.size() + absl::StrCat("/.s.PGSQL.", kPort).size() > kMaxSocketPath) {
    // Too long for a unix socket path: a short directory under /tmp instead.
    ASSIGN_OR_RETURN(socket_dir_, ShortSocketDir(dir, owner));
  } else {
    RETURN_IF_ERROR(MakeOwnedDir(socket_dir_, owner));
  }

  struct stat st;
  if (stat(cluster_dir_.c_str(), &st) == 0) {
    const uid_t expected = owner.has_value() ? owner->uid : geteuid();
    if (st.st_uid != expected) {
      return absl::FailedPreconditionError(
          absl::StrCat("the cluster in ", cluster_dir_, " belongs to uid ", st.st_uid,
                       " but PostgreSQL would run as uid ", expected,
                       "; chown it, or choose another --data_dir"));
    }
  }
  return absl::OkStatus();
}

absl::Status EmbeddedPostgres::InitCluster() {
  std::error_code ec;
  if (fs::exists(cluster_dir_ + "/PG_VERSION", ec)) return absl::OkStatus();
  if (fs::exists(cluster_dir_, ec) && !fs::is_empty(cluster_dir_, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        cluster_dir_, " exists but is not a PostgreSQL cluster (no PG_VERSION); move it away"));
  }
  // initdb into a scratch directory and rename it into place: a crash during initdb leaves only
  // scratch, which the next start removes.
  const std::string scratch = options_.data_dir + "/postgres.initdb";
  fs::remove_all(scratch, ec);
  std::optional<UserIds> owner;
  if (!run_as_.empty()) {
    ASSIGN_OR_RETURN(owner, LookupUser(run_as_));
  }
  RETURN_IF_ERROR(MakeOwnedDir(scratch, owner));
  LOG_EVENT(kInfo, "creating embedded PostgreSQL cluster").Field("cluster_dir", cluster_dir_);
  RETURN_IF_ERROR(RunTool({options_.bin_dir + "/initdb", "-D", scratch, "-U", options_.role,
                           "--auth-local=trust", "--auth-host=reject", "--encoding=UTF8",
                           "--locale=C", "--no-instructions"},
                          absl::Minutes(5))
                      .status());
  fs::remove(cluster_dir_, ec);  // an empty leftover directory
  fs::rename(scratch, cluster_dir_, ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot move the new cluster into ", cluster_dir_, ": ", ec.message()));
  }
  return absl::OkStatus();
}

bool EmbeddedPostgres::IsRunning() const {
  return IsPostmasterOf(ReadLockPid(cluster_dir_ + "/postmaster.pid"), cluster_dir_);
}

int EmbeddedPostgres::postmaster_pid() const {
  return ReadLockPid(cluster_dir_ + "/postmaster.pid");
}

absl::Status EmbeddedPostgres::ClearStaleLocks() {
  // PostgreSQL itself replaces a lock file whose pid is dead, but not one whose pid was reused by
  // another process (common after a reboot or in containers); we know better, so remove both.
  const std::string pid_file = cluster_dir_ + "/postmaster.pid";
  const std::string socket_lock = absl::StrCat(socket_dir_, "/.s.PGSQL.", kPort, ".lock");
  for (const std::string& lock : {pid_file, socket_lock}) {
    if (access(lock.c_str(), F_OK) != 0) continue;
    const int pid = ReadLockPid(lock);
    if (IsPostmasterOf(pid, cluster_dir_)) continue;
    LOG_EVENT(kWarning, "removing stale PostgreSQL lock file")
        .Field("file", lock)
        .Field("pid", pid);
    if (unlink(lock.c_str()) != 0 && errno != ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot remove stale lock file ", lock, ": ", strerror(errno)));
    }
  }
  unlink(absl::StrCat(socket_dir_, "/.s.PGSQL.", kPort).c_str());
  return absl::OkStatus();
}

absl::Status EmbeddedPostgres::StartServer() {
  std::string server_options =
      absl::StrCat("-c listen_addresses='' -k '", socket_dir_, "' -p ", kPort);
  for (const std::string& setting : options_.settings) {
    absl::StrAppend(&server_options, " -c ", setting);
  }
  const int64_t wait_seconds = std::max<int64_t>(1, absl::ToInt64Seconds(options_.start_timeout));
  auto started =
      RunTool({options_.bin_dir + "/pg_ctl", "start", "-w", "-t", absl::StrCat(wait_seconds), "-D",
               cluster_dir_, "-l", log_file_, "-o", server_options},
              options_.start_timeout + absl::Seconds(10));
  if (!started.ok()) {
    return absl::InternalError(
        absl::StrCat("embedded PostgreSQL did not start: ", started.status().message(),
                     "\nserver log (", log_file_, "):\n", LogTail()));
  }
  running_ = true;
  LOG_EVENT(kInfo, "embedded PostgreSQL started")
      .Field("cluster_dir", cluster_dir_)
      .Field("socket_dir", socket_dir_)
      .Field("pid", postmaster_pid());
  return absl::OkStatus();
}

absl::Status EmbeddedPostgres::EnsureDatabase() {
  return CatchDatabaseErrors("creating the embedded database", [&]() -> absl::Status {
    pqxx::connection conn(url_for("postgres"));
    pqxx::nontransaction txn(conn);
    if (txn.exec_params("SELECT 1 FROM pg_database WHERE datname = $1", options_.database)
            .empty()) {
      txn.exec("CREATE DATABASE " + txn.quote_name(options_.database));
      LOG_EVENT(kInfo, "created database").Field("database", options_.database);
    }
    return absl::OkStatus();
  });
}

absl::Status EmbeddedPostgres::Stop() {
  if (!running_) return absl::OkStatus();
  running_ = false;
  RETURN_IF_ERROR(RunTool({options_.bin_dir + "/pg_ctl", "stop", "-D", cluster_dir_, "-m", "fast",
                           "-w", "-t", "60"},
                          absl::Seconds(70))
                      .status());
  LOG_EVENT(kInfo, "embedded PostgreSQL stopped").Field("cluster_dir", cluster_dir_);
  return absl::OkStatus();
}

std::string EmbeddedPostgres::url() const { return url_for(options_.database); }

std::string EmbeddedPostgres::url_for(const std::string& database) const {
  return absl::StrCat("host='", socket_dir_, "' port=", kPort, " user='", options_.role,
                      "' dbname='", database, "'");
}

absl::StatusOr<std::string> EmbeddedPostgres::RunTool(const std::vector<std::string>& argv,
                                                      absl::Duration timeout) const {
  SubprocessOptions options;
  options.run_as_user = run_as_;
  options.timeout = timeout;
  ASSIGN_OR_RETURN(SubprocessResult result, RunSubprocess(argv, options));
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat(FormatCommandLine(argv), " failed (exit ",
                                            result.exit_code, "): ", result.output));
  }
  return result.output;
}

std::string EmbeddedPostgres::LogTail() const {
  std::ifstream in(log_file_);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    lines.push_back(line);
    if (lines.size() > 20) lines.erase(lines.begin());
  }
  return absl::StrJoin(lines, "\n");
}

}  // namespace shadowplane::store
