// A fixed-size pool of PostgreSQL connections (libpqxx 6.4). Connections are opened lazily, checked
// out exclusively, and dropped instead of returned when they broke, so the pool heals by itself
// after the database comes back. Thread-safe.
//
// Metrics (when given a registry): shadowplane_db_pool_connections{state="idle"|"in_use"},
// shadowplane_db_pool_max_connections, shadowplane_db_pool_acquire_seconds,
// shadowplane_db_pool_connect_errors_total.
#ifndef SHADOWPLANE_STORE_CONNECTION_POOL_H_
#define SHADOWPLANE_STORE_CONNECTION_POOL_H_

#include <memory>
#include <pqxx/connection>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/database_error.h"

namespace prometheus {
class Registry;
class Gauge;
class Counter;
class Histogram;
}  // namespace prometheus

namespace shadowplane::store {

class ConnectionPool;

// A checked-out connection; returns to the pool when destroyed.
class PooledConnection {
 public:
  PooledConnection(PooledConnection&& other) noexcept;
  PooledConnection& operator=(PooledConnection&&) = delete;
  ~PooledConnection();

  pqxx::connection& operator*() { return *conn_; }
  pqxx::connection* operator->() { return conn_.get(); }
  // The connection will be closed instead of reused (e.g. it broke mid-query).
  void MarkBroken() { broken_ = true; }

 private:
  friend class ConnectionPool;
  PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn);

  ConnectionPool* pool_;
  std::unique_ptr<pqxx::connection> conn_;
  bool broken_ = false;
};

struct ConnectionPoolOptions {
  // libpq connection string or URI.
  std::string url;
  int max_connections = 8;
  // How long Acquire waits for a free connection before RESOURCE_EXHAUSTED.
  absl::Duration acquire_timeout = absl::Seconds(5);
  // libpq connect_timeout, added to the URL unless it names one.
  absl::Duration connect_timeout = absl::Seconds(5);
  std::string application_name = "shadowplane";
  // Added to the connection string when not empty (read from a private file by the caller);
  // empty: libpq's own sources (the URL, PGPASSWORD, ~/.pgpass). Never logged.
  std::string password = "";
};

// The libpq connection string the pool opens: `url` with connect_timeout, application_name and
// the password added unless it sets them, each in the URL's own syntax (a query parameter,
// percent-encoded, for a URI; a quoted keyword otherwise).
std::string PoolConnectionString(const ConnectionPoolOptions& options);

class ConnectionPool {
 public:
  // `registry` may be null (no metrics).
  ConnectionPool(ConnectionPoolOptions options, prometheus::Registry* registry);
  ~ConnectionPool();

  // A connection, opening one if needed. UNAVAILABLE if the database cannot be reached,
  // RESOURCE_EXHAUSTED if all connections stay busy past acquire_timeout.
  absl::StatusOr<PooledConnection> Acquire();

  // Runs fn(pqxx::connection&) on a pooled connection; maps exceptions (see database_error.h) and
  // drops the connection if it broke. fn returns absl::Status or absl::StatusOr<T>.
  template <typename Fn>
  auto Run(absl::string_view context, Fn&& fn) -> decltype(fn(std::declval<pqxx::connection&>()));

  // Round trip to the server: OK, or why not.
  absl::Status Ping();

  const ConnectionPoolOptions& options() const { return options_; }

 private:
  friend class PooledConnection;
  void Release(std::unique_ptr<pqxx::connection> conn, bool broken);
  void UpdateGauges() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const ConnectionPoolOptions options_;
  const std::string connection_string_;
  absl::Mutex mu_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_ ABSL_GUARDED_BY(mu_);
  int open_ ABSL_GUARDED_BY(mu_) = 0;  // idle + checked out + being opened

  prometheus::Gauge* idle_gauge_ = nullptr;
  prometheus::Gauge* in_use_gauge_ = nullptr;
  prometheus::Histogram* acquire_seconds_ = nullptr;
  prometheus::Counter* connect_errors_ = nullptr;
};

template <typename Fn>
auto ConnectionPool::Run(absl::string_view context, Fn&& fn)
    -> decltype(fn(std::declval<pqxx::connection&>())) {
  auto conn = Acquire();
  if (!conn.ok()) return conn.status();
  auto result = CatchDatabaseErrors(context, [&] { return fn(**conn); });
  if (absl::IsUnavailable(StatusOf(result))) conn->MarkBroken();
  return result;
}

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_CONNECTION_POOL_H_
