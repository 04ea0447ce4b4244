// A private PostgreSQL 15 cluster that shadowplane creates and runs itself when no --database_url
// is given, so that one command runs the whole service.
//
// Layout under `data_dir`:
//   postgres/   the cluster (PGDATA), owned by the database user, mode 0700
//   run/        its unix socket directory (TCP is off), or a short directory under /tmp when this
//               path would exceed the 107-byte unix socket limit
//   log/        postgresql.log
// PostgreSQL refuses to run as root: as root, initdb and postgres run as `system_user`, which must
// be able to reach `data_dir`; as any other user they run as that user.
//
// Start() creates the cluster on first use (initdb into a temporary directory, then rename, so a
// crash never leaves half a cluster), adopts a cluster still running from a process that died,
// clears a stale postmaster.pid, starts it and makes sure `database` exists. Stop() (and the
// destructor) stop it. Not thread-safe.
#ifndef SHADOWPLANE_STORE_EMBEDDED_POSTGRES_H_
#define SHADOWPLANE_STORE_EMBEDDED_POSTGRES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace shadowplane::store {

struct EmbeddedPostgresOptions {
  std::string data_dir;
  std::string bin_dir = "/usr/lib/postgresql/15/bin";
  // The OS user that runs PostgreSQL when this process is root.
  std::string system_user = "shadowplane";
  // The database created for shadowplane, and the cluster's superuser name.
  std::string database = "shadowplane";
  std::string role = "shadowplane";
  absl::Duration start_timeout = absl::Seconds(60);
  // Extra server settings, "name=value" (e.g. "fsync=off" for throwaway test clusters).
  std::vector<std::string> settings;
};

class EmbeddedPostgres {
 public:
  // FAILED_PRECONDITION with the reason when data_dir is unusable (not writable, not reachable by
  // the database user, holds something that is not a cluster); INTERNAL with PostgreSQL's own
  // output when initdb or the server fails.
  static absl::StatusOr<std::unique_ptr<EmbeddedPostgres>> Start(EmbeddedPostgresOptions options);

  ~EmbeddedPostgres();
  EmbeddedPostgres(const EmbeddedPostgres&) = delete;
  EmbeddedPostgres& operator=(const EmbeddedPostgres&) = delete;

  // A libpq URL for `database` over the unix socket.
  std::string url() const;
  // The URL of another database on the same cluster.
  std::string url_for(const std::string& database) const;
  const std::string& socket_dir() const { return socket_dir_; }
  const std::string& cluster_dir() const { return cluster_dir_; }
  // True when the cluster was already running (left by a process that died) and was adopted.
  bool adopted() const { return adopted_; }
  // pid of the postmaster, 0 if unknown.
  int postmaster_pid() const;

  // Fast shutdown (disconnects clients, checkpoints). Idempotent.
  absl::Status Stop();

  // The default --data_dir: /var/lib/shadowplane for root, else $XDG_DATA_HOME/shadowplane or
  // ~/.local/share/shadowplane.
  static std::string DefaultDataDir();

 private:
  explicit EmbeddedPostgres(EmbeddedPostgresOptions options) : options_(std::move(options)) {}
  absl::Status Prepare();
  absl::Status InitCluster();
  absl::Status ClearStaleLocks();
  absl::Status StartServer();
  absl::Status EnsureDatabase();
  bool IsRunning() const;
  absl::StatusOr<std::string> RunTool(const std::vector<std::string>& argv,
                                      absl::Duration timeout) const;
  std::string LogTail() const;

  EmbeddedPostgresOptions options_;
  std::string cluster_dir_;
  std::string socket_dir_;
  std::string log_file_;
  std::string run_as_;  // empty: this process's own user
  bool adopted_ = false;
  bool running_ = false;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_EMBEDDED_POSTGRES_H_
