// A PostgreSQL LISTEN on one channel, on a connection of its own, with a watermark: the feed
// sends itself a heartbeat notification every `heartbeat_interval`, and when it comes back, every
// notification of a transaction that committed before the heartbeat was sent has been delivered
// (PostgreSQL delivers notifications in commit order). So a reader that has applied every
// notification up to a watermark W has seen every change committed before W.
//
// A broken connection is reopened (with backoff); a fresh LISTEN cannot tell what was missed, so
// the sink is told to forget everything (OnGap) before new notifications arrive. While the
// connection is down the watermark does not move.
//
// One thread, started by Start() and joined by Stop() (or the destructor).
#ifndef SHADOWPLANE_STORE_NOTIFICATION_FEED_H_
#define SHADOWPLANE_STORE_NOTIFICATION_FEED_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace shadowplane::store {

// What a NotificationFeed reports, on its own thread.
class NotificationSink {
 public:
  virtual ~NotificationSink() = default;
  // A notification of `channel` (not one of the feed's heartbeats), its payload at most
  // NotificationFeedOptions::max_payload_bytes (longer ones are dropped and counted, then
  // reported as a gap).
  virtual void OnNotification(absl::string_view payload) = 0;
  // Every notification committed before `watermark` has been passed to OnNotification.
  virtual void OnCaughtUp(absl::Time watermark) = 0;
  // Notifications may have been missed (a new connection, a payload that could not be passed
  // on): forget whatever they would have corrected. Called before any OnNotification of the new
  // connection.
  virtual void OnGap() = 0;
};

struct NotificationFeedOptions {
  std::string connection_string;
  std::string channel;
  absl::Duration heartbeat_interval = absl::Milliseconds(250);
  absl::Duration reconnect_backoff = absl::Milliseconds(500);
  size_t max_payload_bytes = 256;
};

class NotificationFeed {
 public:
  // `clock` times the watermark (real time: it is compared with the time of reads); `registry`
  // may be null. Metrics: shadowplane_notification_feed_{notifications,gaps,reconnects}_total and
  // shadowplane_notification_feed_connected, each labelled with the channel.
  NotificationFeed(NotificationFeedOptions options, NotificationSink* sink, const Clock* clock,
                   prometheus::Registry* registry);
  ~NotificationFeed();
  NotificationFeed(const NotificationFeed&) = delete;
  NotificationFeed& operator=(const NotificationFeed&) = delete;

  void Start();
  void Stop();

 private:
  class Session;
  void Run();

  const NotificationFeedOptions options_;
  NotificationSink* const sink_;
  const Clock* const clock_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  prometheus::Counter* notifications_ = nullptr;
  prometheus::Counter* gaps_ = nullptr;
  prometheus::Counter* reconnects_ = nullptr;
  prometheus::Gauge* connected_ = nullptr;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_NOTIFICATION_FEED_H_
