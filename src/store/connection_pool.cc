#include "store/connection_pool.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <pqxx/pqxx>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace shadowplane::store {
namespace {

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string PercentEncode(absl::string_view v) {
  std::string out;
  for (unsigned char c : v) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(absl::StrFormat("%02x", c)));
    }
  }
  return out;
}

// A libpq keyword value: single-quoted, with backslashes and quotes escaped.
std::string Quoted(absl::string_view v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::string PoolConnectionString(const ConnectionPoolOptions& o) {
  std::string s = o.url;
  const bool uri = absl::StartsWith(s, "postgresql://") || absl::StartsWith(s, "postgres://");
  auto add = [&](absl::string_view key, const std::string& value) {
    if (absl::StrContains(s, absl::StrCat(key, "="))) return;
    if (uri) {
      absl::StrAppend(&s, absl::StrContains(s, "?") ? "&" : "?", key, "=", PercentEncode(value));
    } else {
      absl::StrAppend(&s, s.empty() ? "" : " ", key, "=", Quoted(value));
    }
  };
  add("connect_timeout",
      std::to_string(std::max<int64_t>(1, absl::ToInt64Seconds(o.connect_timeout))));
  add("application_name", o.application_name);
  if (!o.password.empty()) add("password", o.password);
  return s;
}

PooledConnection::PooledConnection(ConnectionPool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

PooledConnection::PooledConnection(PooledConnection&& other) noexcept
    : pool_(other.pool_), conn_(std::move(other.conn_)), broken_(other.broken_) {
  other.pool_ = nullptr;
}

PooledConnection::~PooledConnection() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_), broken_);
}

ConnectionPool::ConnectionPool(ConnectionPoolOptions options, prometheus::Registry* registry)
    : options_(std::move(options)), connection_string_(PoolConnectionString(options_)) {
  if (registry == nullptr) return;
  auto& connections = prometheus::BuildGauge()
                          .Name("shadowplane_db_pool_connections")
                          .Help("Open database connections in the pool, by state")
                          .Register(*registry);
  idle_gauge_ = &connections.Add({{"state", "idle"}});
  in_use_gauge_ = &connections.Add({{"state", "in_use"}});
  prometheus::BuildGauge()
      .Name("shadowplane_db_pool_max_connections")
      .Help("Most database connections the pool will open")
      .Register(*registry)
      .Add({})
      .Set(options_.max_connections);
  acquire_seconds_ = &prometheus::BuildHistogram()
                          .Name("shadowplane_db_pool_acquire_seconds")
                          .Help("Time to check a connection out of the pool, connecting included")
                          .Register(*registry)
                          .Add({}, prometheus::Histogram::BucketBoundaries{
                                       0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
  connect_errors_ = &prometheus::BuildCounter()
                         .Name("shadowplane_db_pool_connect_errors_total")
                         .Help("Failed attempts to open a database connection")
                         .Register(*registry)
                         .Add({});
}

ConnectionPool::~ConnectionPool() = default;

absl::StatusOr<PooledConnection> ConnectionPool::Acquire() {
  const absl::Time start = absl::Now();
  const absl::Time deadline = start + options_.acquire_timeout;
  auto observe = [&] {
    if (acquire_seconds_ != nullptr) {
      acquire_seconds_->Observe(absl::ToDoubleSeconds(absl::Now() - start));
    }
  };
  {
    absl::MutexLock lock(&mu_);
    auto can_proceed = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !idle_.empty() || open_ < options_.max_connections;
    };
    if (!mu_.AwaitWithDeadline(absl::Condition(&can_proceed), deadline)) {
      observe();
      return absl::ResourceExhaustedError(
          absl::StrCat("all ", options_.max_connections, " database connections stayed busy for ",
                       absl::FormatDuration(options_.acquire_timeout)));
    }
    if (!idle_.empty()) {
      std::unique_ptr<pqxx::connection> conn = std::move(idle_.back());
      idle_.pop_back();
      UpdateGauges();
      observe();
      return PooledConnection(this, std::move(conn));
    }
    ++open_;  // reserve the slot; connect without holding the lock
    UpdateGauges();
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(connection_string_);
    observe();
    return PooledConnection(this, std::move(conn));
  } catch (const std::exception& e) {
    {
      absl::MutexLock lock(&mu_);
      --open_;
      UpdateGauges();
    }
    if (connect_errors_ != nullptr) connect_errors_->Increment();
    observe();
    // Any failure to connect (refused, auth, missing database) means the database is not usable.
    return absl::UnavailableError(absl::StrCat("cannot connect to the database: ",
                                               absl::StripTrailingAsciiWhitespace(e.what())));
  }
}

void ConnectionPool::Release(std::unique_ptr<pqxx::connection> conn, bool broken) {
  absl::MutexLock lock(&mu_);
  if (broken || !conn->is_open()) {
    --open_;
  } else {
    idle_.push_back(std::move(conn));
  }
  UpdateGauges();
}

void ConnectionPool::UpdateGauges() {
  if (idle_gauge_ == nullptr) return;
  idle_gauge_->Set(static_cast<double>(idle_.size()));
  in_use_gauge_->Set(static_cast<double>(open_) - static_cast<double>(idle_.size()));
}

absl::Status ConnectionPool::Ping() {
  return Run("database ping", [](pqxx::connection& conn) -> absl::Status {
    pqxx::nontransaction txn(conn);
    txn.exec("SELECT 1");
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::store
