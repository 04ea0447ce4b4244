#include "store/notification_feed.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <map>
#include <pqxx/pqxx>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/log.h"

namespace shadowplane::store {

namespace {

// Heartbeats are notifications on the same channel (so they are ordered with the changes),
// told apart by this prefix, which no id payload starts with, and by a token of their feed:
// other replicas' heartbeats pass by.
constexpr char kHeartbeatPrefix[] = "~heartbeat:";

std::string RandomToken() {
  std::random_device device;
  return absl::StrCat(
      absl::Hex(static_cast<uint64_t>(device()) << 32 | device(), absl::kZeroPad16));
}

}  // namespace

// One connection with its LISTEN; destroyed whole when anything on it fails.
class NotificationFeed::Session {
 public:
  Session(std::unique_ptr<pqxx::connection> conn, NotificationFeed* feed)
      : conn_(std::move(conn)),
        feed_(feed),
        heartbeat_prefix_(absl::StrCat(kHeartbeatPrefix, RandomToken(), ":")),
        receiver_(std::make_unique<Receiver>(this)) {}

  // Sends a heartbeat stamped `sent`.
  void SendHeartbeat(absl::Time sent) {
    const uint64_t nonce = ++last_nonce_;
    outstanding_[nonce] = sent;
    pqxx::nontransaction txn(*conn_);
    txn.exec_params("SELECT pg_notify($1, $2)", feed_->options_.channel,
                    absl::StrCat(heartbeat_prefix_, nonce));
  }

  // Delivers what has arrived, waiting up to `wait` for something to.
  void Await(absl::Duration wait) {
    const int64_t us = std::max<int64_t>(0, absl::ToInt64Microseconds(wait));
    conn_->await_notification(static_cast<long>(us / 1000000), static_cast<long>(us % 1000000));
  }

  // When the oldest heartbeat not back yet was sent; InfiniteFuture when none is out.
  absl::Time OldestOutstanding() const {
    return outstanding_.empty() ? absl::InfiniteFuture() : outstanding_.begin()->second;
  }

 private:
  // libpqxx's receiver registers (LISTEN) on construction and unregisters on destruction, through
  // the connection: it is declared after the connection, so it goes first.
  class Receiver final : public pqxx::notification_receiver {
   public:
    explicit Receiver(Session* session)
        : pqxx::notification_receiver(*session->conn_, session->feed_->options_.channel),
          session_(session) {}
    void operator()(const std::string& payload, int /*backend_pid*/) override {
      session_->Deliver(payload);
    }

   private:
    Session* const session_;
  };

  void Deliver(const std::string& payload) {
    if (absl::StartsWith(payload, kHeartbeatPrefix)) {
      uint64_t nonce = 0;
      if (!absl::StartsWith(payload, heartbeat_prefix_) ||
          !absl::SimpleAtoi(absl::string_view(payload).substr(heartbeat_prefix_.size()), &nonce)) {
        return;  // another feed's
      }
      auto it = outstanding_.find(nonce);
      if (it == outstanding_.end()) return;
      const absl::Time sent = it->second;
      // Every heartbeat sent before this one is back too (commit order).
      outstanding_.erase(outstanding_.begin(), std::next(it));
      feed_->sink_->OnCaughtUp(sent);
      return;
    }
    if (payload.size() > feed_->options_.max_payload_bytes) {
      if (feed_->gaps_ != nullptr) feed_->gaps_->Increment();
      feed_->sink_->OnGap();
      return;
    }
    if (feed_->notifications_ != nullptr) feed_->notifications_->Increment();
    feed_->sink_->OnNotification(payload);
  }

  std::unique_ptr<pqxx::connection> conn_;
  NotificationFeed* const feed_;
  const std::string heartbeat_prefix_;
  uint64_t last_nonce_ = 0;
  std::map<uint64_t, absl::Time> outstanding_;
  std::unique_ptr<Receiver> receiver_;
};

NotificationFeed::NotificationFeed(NotificationFeedOptions options, NotificationSink* sink,
                                   const Clock* clock, prometheus::Registry* registry)
    : options_(std::move(options)), sink_(sink), clock_(clock) {
  if (registry == nullptr) return;
  const std::map<std::string, std::string> labels = {{"channel", options_.channel}};
  notifications_ = &prometheus::BuildCounter()
                        .Name("shadowplane_notification_feed_notifications_total")
                        .Help("Change notifications received (heartbeats not counted)")
                        .Register(*registry)
                        .Add(labels);
  gaps_ = &prometheus::BuildCounter()
               .Name("shadowplane_notification_feed_gaps_total")
               .Help(
                   "Times notifications may have been missed (reconnects, oversized payloads): "
                   "the sink forgot what they would have corrected")
               .Register(*registry)
               .Add(labels);
  reconnects_ = &prometheus::BuildCounter()
                     .Name("shadowplane_notification_feed_reconnects_total")
                     .Help("Connections opened after the first")
                     .Register(*registry)
                     .Add(labels);
  connected_ = &prometheus::BuildGauge()
                    .Name("shadowplane_notification_feed_connected")
                    .Help("1 while the feed's LISTEN connection is up")
                    .Register(*registry)
                    .Add(labels);
}

NotificationFeed::~NotificationFeed() { Stop(); }

void NotificationFeed::Start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Run(); });
}

void NotificationFeed::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void NotificationFeed::Run() {
  bool first = true;
  // A heartbeat that does not come back within this long means the connection is stuck.
  const absl::Duration stuck_after = std::max(absl::Seconds(2), 8 * options_.heartbeat_interval);
  while (!stopping_) {
    std::unique_ptr<Session> session;
    try {
      auto conn = std::make_unique<pqxx::connection>(options_.connection_string);
      session = std::make_unique<Session>(std::move(conn), this);  // LISTEN is on from here
    } catch (const std::exception& e) {
      LOG_EVENT(kWarning, "cannot listen for change notifications")
          .Field("channel", options_.channel)
          .Field("error", e.what());
      absl::SleepFor(options_.reconnect_backoff);
      continue;
    }
    if (!first && reconnects_ != nullptr) reconnects_->Increment();
    first = false;
    if (connected_ != nullptr) connected_->Set(1);
    // Whatever committed before the LISTEN may never be notified: start over.
    if (gaps_ != nullptr) gaps_->Increment();
    sink_->OnGap();
    try {
      absl::Time next_heartbeat = clock_->Now();
      while (!stopping_) {
        const absl::Time now = clock_->Now();
        if (now >= next_heartbeat) {
          session->SendHeartbeat(now);
          next_heartbeat = now + options_.heartbeat_interval;
        }
        if (now - session->OldestOutstanding() > stuck_after) {
          throw pqxx::broken_connection("a heartbeat did not come back");
        }
        session->Await(std::min(next_heartbeat - clock_->Now(), options_.heartbeat_interval));
      }
    } catch (const std::exception& e) {
      LOG_EVENT(kWarning, "change notifications interrupted; reconnecting")
          .Field("channel", options_.channel)
          .Field("error", e.what());
      session.reset();  // libpqxx's UNLISTEN on a broken connection reports, never throws
      if (connected_ != nullptr) connected_->Set(0);
      absl::SleepFor(options_.reconnect_backoff);
      continue;
    }
    session.reset();
    if (connected_ != nullptr) connected_->Set(0);
  }
}

}  // namespace shadowplane::store
