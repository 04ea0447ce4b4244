// GetReservation's in-memory view (reservation/reservation_view.h) and the feed that keeps it
// fresh (store/notification_feed.h): the view's rules on a fake clock, then two replicas' views
// over one real PostgreSQL with the triggers of migrations/0024_reservation_changes.sql:
// read-your-writes on the replica that wrote, convergence on the other within the bound, reads
// that bypass the view when its feed stops, and a feed that survives its connection being killed.
#include "reservation/reservation_view.h"

#include <prometheus/registry.h>

#include <pqxx/pqxx>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "reservation/manager_fixture.h"
#include "reservation/reservation_manager.h"

namespace shadowplane::reservation {
namespace {

store::ReservationRecord Record(const std::string& id, const std::string& resource_id,
                                const std::string& state) {
  store::ReservationRecord r;
  r.id = id;
  r.resource_id = resource_id;
  r.state = state;
  return r;
}

// A loader that counts its calls and answers what `state` says.
struct Loader {
  Loader() = default;
  Loader(std::string id_, std::string resource_id_, std::string state_ = "active")
      : id(std::move(id_)), resource_id(std::move(resource_id_)), state(std::move(state_)) {}
  std::string id, resource_id, state = "active";
  int calls = 0;
  std::function<void()> during;  // runs inside the load, as a racing change would
  ReservationView::Loader Get() {
    return [this]() -> absl::StatusOr<store::ReservationRecord> {
      ++calls;
      if (during) during();
      if (state.empty()) return absl::NotFoundError("no such reservation");
      return Record(id, resource_id, state);
    };
  }
};

class ReservationViewRulesTest : public ::testing::Test {
 protected:
  ReservationViewRulesTest() : view_(Options(), &clock_, nullptr) {
    loader_.id = "r1";
    loader_.resource_id = "res1";
  }
  static ReservationViewOptions Options() {
    ReservationViewOptions o;
    o.staleness_bound = absl::Seconds(1);
    o.max_entries = 3;
    return o;
  }
  std::string StateOf(const std::string& id) {
    auto r = view_.Get(id, loader_.Get());
    return r.ok() ? (*r)->state : r.status().ToString();
  }

  FakeClock clock_{absl::FromUnixSeconds(1796558400)};
  ReservationView view_;
  Loader loader_;
};

TEST_F(ReservationViewRulesTest, ServesFromMemoryOnlyWhileTheFeedIsWithinTheBound) {
  EXPECT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(loader_.calls, 2) << "never caught up: every read loads";
  EXPECT_EQ(view_.Lookup("r1"), nullptr);

  view_.OnCaughtUp(clock_.Now());
  EXPECT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(loader_.calls, 3) << "caught up: the second read is from memory";
  ASSERT_NE(view_.Lookup("r1"), nullptr);

  clock_.Advance(absl::Milliseconds(1001));  // the feed says nothing more
  loader_.state = "releasing";
  EXPECT_EQ(view_.Lookup("r1"), nullptr) << "past the bound, memory is not trusted";
  EXPECT_EQ(StateOf("r1"), "releasing");
  EXPECT_EQ(loader_.calls, 4);
}

TEST_F(ReservationViewRulesTest, ANotificationOfTheResourceOrALocalWriteDropsTheReservation) {
  view_.OnCaughtUp(clock_.Now());
  ASSERT_EQ(StateOf("r1"), "active");
  loader_.state = "releasing";
  EXPECT_EQ(StateOf("r1"), "active") << "kept";
  view_.OnNotification("res1");  // notifications name the resource
  EXPECT_EQ(StateOf("r1"), "releasing");
  loader_.state = "released";
  view_.OnNotification("another-resource");
  EXPECT_EQ(StateOf("r1"), "releasing");
  view_.Invalidate("r1");  // this process wrote it
  EXPECT_EQ(StateOf("r1"), "released");
  EXPECT_EQ(loader_.calls, 3);
}

TEST_F(ReservationViewRulesTest, ALoadRacingAChangeOfTheSameReservationIsNotKept) {
  view_.OnCaughtUp(clock_.Now());
  loader_.during = [this] { view_.OnNotification("res1"); };
  ASSERT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(view_.size(), 0u) << "the load may predate the change it was told of";
  loader_.during = [this] { view_.Invalidate("r1"); };
  ASSERT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(view_.size(), 0u);
  loader_.during = [this] { view_.OnGap(); };
  ASSERT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(view_.size(), 0u);
  // A change of something else does not stop it being kept.
  loader_.during = [this] { view_.OnNotification("another-resource"); };
  ASSERT_EQ(StateOf("r1"), "active");
  EXPECT_EQ(view_.size(), 1u);
}

TEST_F(ReservationViewRulesTest, ALoadOutlivingTheRememberedInvalidationsIsNotKept) {
  ReservationViewOptions options = Options();
  options.recent_invalidations = 4;
  ReservationView view(options, &clock_, nullptr);
  view.OnCaughtUp(clock_.Now());
  loader_.during = [&view] {
    for (int i = 0; i < 10; ++i) view.OnNotification("other-" + std::to_string(i));
  };
  ASSERT_TRUE(view.Get("r1", loader_.Get()).ok());
  EXPECT_EQ(view.size(), 0u) << "the change of r1 could have been among those forgotten";
}

TEST_F(ReservationViewRulesTest, AGapForgetsEverythingAndUnknownIdsAreNeverKept) {
  view_.OnCaughtUp(clock_.Now());
  ASSERT_EQ(StateOf("r1"), "active");
  Loader other{"r2", "res2"};
  ASSERT_TRUE(view_.Get("r2", other.Get()).ok());
  EXPECT_EQ(view_.size(), 2u);
  view_.OnGap();
  EXPECT_EQ(view_.size(), 0u);
  EXPECT_EQ(view_.Lookup("r1"), nullptr);

  Loader missing{"nope", "", ""};
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(absl::IsNotFound(view_.Get("nope", missing.Get()).status()));
  }
  EXPECT_EQ(missing.calls, 3) << "not found is not kept";
  EXPECT_EQ(view_.size(), 0u);
}

TEST_F(ReservationViewRulesTest, KeepsAtMostMaxEntries) {
  view_.OnCaughtUp(clock_.Now());
  for (int i = 0; i < 10; ++i) {
    Loader l{"r" + std::to_string(i), "res" + std::to_string(i)};
    ASSERT_TRUE(view_.Get(l.id, l.Get()).ok());
  }
  EXPECT_EQ(view_.size(), 3u);
}

TEST_F(ReservationViewRulesTest, ZeroBoundTurnsTheViewOff) {
  ReservationViewOptions options;
  options.staleness_bound = absl::ZeroDuration();
  ReservationView view(options, &clock_, nullptr);
  EXPECT_FALSE(view.enabled());
  view.OnCaughtUp(clock_.Now());
  ASSERT_TRUE(view.Get("r1", loader_.Get()).ok());
  ASSERT_TRUE(view.Get("r1", loader_.Get()).ok());
  EXPECT_EQ(loader_.calls, 2);
  EXPECT_EQ(view.size(), 0u);
}

// What a feed reported, for the trigger tests.
class RecordingSink final : public store::NotificationSink {
 public:
  void OnNotification(absl::string_view payload) override {
    absl::MutexLock lock(&mu_);
    payloads_.emplace_back(payload);
  }
  void OnCaughtUp(absl::Time watermark) override {
    absl::MutexLock lock(&mu_);
    watermark_ = watermark;
  }
  void OnGap() override {
    absl::MutexLock lock(&mu_);
    ++gaps_;
  }
  // Waits until every change committed before `t` has been reported; false after 10 s.
  bool CaughtUpTo(absl::Time t) {
    absl::MutexLock lock(&mu_);
    auto past = [this, t]() ABSL_SHARED_LOCKS_REQUIRED(mu_) { return watermark_ > t; };
    return mu_.AwaitWithTimeout(absl::Condition(&past), absl::Seconds(10));
  }
  std::vector<std::string> TakePayloads() {
    absl::MutexLock lock(&mu_);
    return std::exchange(payloads_, {});
  }
  int gaps() {
    absl::MutexLock lock(&mu_);
    return gaps_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> payloads_ ABSL_GUARDED_BY(mu_);
  absl::Time watermark_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  int gaps_ ABSL_GUARDED_BY(mu_) = 0;
};

// One replica's read side: a view and its feed, on real time.
struct Replica {
  Replica(const std::string& connection_string, absl::Duration bound) {
    ReservationViewOptions options;
    options.staleness_bound = bound;
    view = std::make_unique<ReservationView>(options, RealClock::Get(), &registry);
    store::NotificationFeedOptions feed_options;
    feed_options.connection_string = connection_string;
    feed_options.channel = kReservationChangesChannel;
    feed_options.heartbeat_interval = bound / 4;
    feed_options.reconnect_backoff = absl::Milliseconds(50);
    feed = std::make_unique<store::NotificationFeed>(feed_options, view.get(), RealClock::Get(),
                                                     &registry);
    feed->Start();
  }
  // A counter's value: the series of `name` whose label `label` is `value`.
  double Metric(const std::string& name, const std::string& label, const std::string& value) {
    for (const auto& family : registry.Collect()) {
      if (family.name != name) continue;
      for (const auto& metric : family.metric) {
        for (const auto& pair : metric.label) {
          if (pair.name == label && pair.value == value) return metric.counter.value;
        }
      }
    }
    return -1;
  }
  prometheus::Registry registry;
  std::unique_ptr<ReservationView> view;
  std::unique_ptr<store::NotificationFeed> feed;
};

class ReservationViewTest : public ManagerOnDatabaseTest {
 protected:
  void SetUp() override {
    ManagerOnDatabaseTest::SetUp();
    auto r = manager_->Reserve(Spec("view-1"));
    ASSERT_TRUE(r.ok()) << r.status();
    id_ = r->id;
    resource_id_ = r->resource_id;
  }

  std::string ConnectionString() const { return store::PoolConnectionString(pool_->options()); }
  ReservationView::Loader Load() {
    return [this] { return manager_->Get(id_); };
  }
  // The reservation's sync interval as `view` answers.
  double IntervalSeenBy(ReservationView& view) {
    auto r = view.Get(id_, Load());
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? (*r)->shadow_sync_interval_seconds : -1;
  }
  absl::Time SetInterval(double seconds) {
    ReservationUpdate update;
    update.shadow_sync_interval_seconds = seconds;
    auto r = manager_->Update(id_, update);
    EXPECT_TRUE(r.ok()) << r.status();
    return absl::Now();  // after the commit
  }
  void Exec(const std::string& sql) {
    pqxx::connection conn(ConnectionString());
    pqxx::nontransaction txn(conn);
    txn.exec(sql);
  }

  std::string id_, resource_id_;
};

TEST_F(ReservationViewTest, TheReplicaThatWroteReadsItsWriteAtOnce) {
  // A feed that is fresh for ever and never notifies: only the writer's own invalidation can
  // make the write visible.
  FakeClock clock(absl::Now());
  ReservationView view(ReservationViewOptions(), &clock, nullptr);
  view.OnCaughtUp(clock.Now());
  ASSERT_EQ(IntervalSeenBy(view), 60);
  SetInterval(90);
  EXPECT_EQ(IntervalSeenBy(view), 60) << "this view hears of no change but the writer's";
  view.Invalidate(id_);
  EXPECT_EQ(IntervalSeenBy(view), 90);
  for (double interval : {120.0, 7.5, 33.0}) {
    SetInterval(interval);
    view.Invalidate(id_);
    EXPECT_EQ(IntervalSeenBy(view), interval) << "read-your-writes";
  }
}

TEST_F(ReservationViewTest, AnotherReplicaConvergesWithinTheBoundAndServesFromMemoryMeanwhile) {
  const absl::Duration bound = absl::Milliseconds(500);
  Replica writer(ConnectionString(), bound), other(ConnectionString(), bound);
  // Both feeds caught up: reads are served from memory.
  for (int i = 0; i < 100 && other.view->Lookup(id_) == nullptr; ++i) {
    IntervalSeenBy(*other.view);
    IntervalSeenBy(*writer.view);
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_NE(other.view->Lookup(id_), nullptr) << "the feed never caught up";
  const double hits_before =
      other.Metric("shadowplane_reservation_view_reads_total", "result", "hit");

  for (double interval : {61.0, 62.0, 63.0, 64.0, 65.0}) {
    const absl::Time committed = SetInterval(interval);
    writer.view->Invalidate(id_);
    EXPECT_EQ(IntervalSeenBy(*writer.view), interval) << "the writer, at once";
    // Every read that starts a bound after the commit sees it.
    absl::SleepFor(committed + bound + absl::Milliseconds(1) - absl::Now());
    EXPECT_EQ(IntervalSeenBy(*other.view), interval);
    EXPECT_EQ(IntervalSeenBy(*other.view), interval);
  }
  EXPECT_GE(other.Metric("shadowplane_reservation_view_reads_total", "result", "hit"),
            hits_before + 5)
      << "the other replica answered from memory, having dropped each change when notified";
  EXPECT_GE(
      other.Metric("shadowplane_reservation_view_invalidations_total", "source", "notification"),
      5);

  // Without a feed the other replica falls behind: past the bound it reads the database.
  other.feed->Stop();
  const absl::Time committed = SetInterval(99);
  absl::SleepFor(committed + bound + absl::Milliseconds(1) - absl::Now());
  EXPECT_EQ(other.view->Lookup(id_), nullptr);
  const double bypasses =
      other.Metric("shadowplane_reservation_view_reads_total", "result", "bypass");
  EXPECT_EQ(IntervalSeenBy(*other.view), 99);
  EXPECT_EQ(other.Metric("shadowplane_reservation_view_reads_total", "result", "bypass"),
            bypasses + 1);
}

TEST_F(ReservationViewTest, TriggersNotifyTheViewsColumnsAndNotLeaseRenewals) {
  RecordingSink sink;
  store::NotificationFeedOptions options;
  options.connection_string = ConnectionString();
  options.channel = kReservationChangesChannel;
  options.heartbeat_interval = absl::Milliseconds(50);
  store::NotificationFeed feed(options, &sink, RealClock::Get(), nullptr);
  feed.Start();
  ASSERT_TRUE(sink.CaughtUpTo(absl::Now()));
  sink.TakePayloads();

  const std::string of_resource = "(SELECT resource_id FROM reservations WHERE id = '" + id_ + "')";
  Exec(
      "UPDATE instances SET lease_expires_at = now() + interval '1 minute', lease_renewed_at = "
      "now() WHERE resource_id = " +
      of_resource);
  ASSERT_TRUE(sink.CaughtUpTo(absl::Now()));
  EXPECT_TRUE(sink.TakePayloads().empty()) << "a lease renewal changes nothing the view shows";

  for (const std::string& change :
       {"UPDATE instances SET endpoint = '10.0.0.9:80' WHERE role = 'shadow' AND resource_id = " +
            of_resource,
        "UPDATE reservations SET last_sync_error = 'x' WHERE id = '" + id_ + "'",
        "UPDATE resources SET name = 'renamed' WHERE id = " + of_resource}) {
    Exec(change);
    ASSERT_TRUE(sink.CaughtUpTo(absl::Now()));
    EXPECT_EQ(sink.TakePayloads(), std::vector<std::string>{resource_id_}) << change;
  }
}

TEST_F(ReservationViewTest, AFeedWhoseConnectionIsKilledStartsOverAndConvergesAgain) {
  const absl::Duration bound = absl::Milliseconds(400);
  Replica other(ConnectionString(), bound);
  for (int i = 0; i < 100 && other.view->Lookup(id_) == nullptr; ++i) {
    IntervalSeenBy(*other.view);
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_NE(other.view->Lookup(id_), nullptr);
  // The feed's last statement is its heartbeat: that names its connection (in this test's
  // database only: other tests share the server).
  Exec(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE "
      "'SELECT pg_notify(%' AND datname = current_database() AND pid <> pg_backend_pid()");
  for (int i = 0; i < 200 && other.Metric("shadowplane_notification_feed_reconnects_total",
                                          "channel", kReservationChangesChannel) < 1;
       ++i) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_GE(other.Metric("shadowplane_notification_feed_reconnects_total", "channel",
                         kReservationChangesChannel),
            1);
  EXPECT_GE(other.Metric("shadowplane_reservation_view_invalidations_total", "source", "gap"), 2)
      << "the first connection's and the new one's";
  const absl::Time committed = SetInterval(42);
  absl::SleepFor(committed + bound + absl::Milliseconds(1) - absl::Now());
  EXPECT_EQ(IntervalSeenBy(*other.view), 42);
  for (int i = 0; i < 100 && other.view->Lookup(id_) == nullptr; ++i) {
    absl::SleepFor(absl::Milliseconds(20));
    IntervalSeenBy(*other.view);
  }
  ASSERT_NE(other.view->Lookup(id_), nullptr) << "served from memory again";
  EXPECT_EQ(other.view->Lookup(id_)->shadow_sync_interval_seconds, 42);
}

}  // namespace
}  // namespace shadowplane::reservation
