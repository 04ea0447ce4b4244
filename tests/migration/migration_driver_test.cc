// The migration driver on PostgreSQL (label pg), with scripted steps: leases are claimed and
// renewed, a driver that stops heartbeating loses its migrations to another once the lease
// expires, the other resumes from the persisted state, and the first can no longer move them.
// Retriable errors are retried and counted; past the step deadline the migration is given up.
#include "migration/migration_driver.h"

#include <atomic>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "store/migration_state.h"
#include "support/test_database.h"

namespace shadowplane::migration {
namespace {

constexpr char kResource[] = "aaaaaaaa-0000-4000-8000-000000000001";

// Moves a migration one state along the planned path per step, recording who ran each step. A
// step can be made to hang (a driver that froze), or to fail.
class ScriptedStepper final : public MigrationStepper {
 public:
  explicit ScriptedStepper(store::MigrationRepository* repo) : repo_(repo) {}

  absl::StatusOr<StepResult> Step(const store::MigrationRecord& m,
                                  const std::string& owner) override {
    {
      absl::MutexLock lock(&mu_);
      if (static_cast<int>(steps_.size()) == hang_after_) hang_ = true;
      auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !hang_; };
      mu_.Await(absl::Condition(&released));
      steps_.push_back(absl::StrCat(owner, ":", store::StateName(m.state)));
      if (!fail_with_.ok() && store::StateName(m.state) == fail_in_) return fail_with_;
    }
    static const std::map<std::string, std::string> kNext = {
        {"PLANNED", "PREPARING_TARGET"}, {"PREPARING_TARGET", "PRECOPY"},  {"PRECOPY", "CUTOVER"},
        {"CUTOVER", "RETIRING_SOURCE"},  {"RETIRING_SOURCE", "OBSERVING"}, {"OBSERVING", "DONE"},
        {"ROLLING_BACK", "ROLLED_BACK"}};
    store::MigrationChange change;
    change.progress = m.progress;
    change.progress->attempts = 0;
    change.progress->next_attempt_at.reset();
    absl::Status moved =
        repo_->Transition(m.id, m.state, *store::ParseState(kNext.at(store::StateName(m.state))),
                          change, absl::Now(), owner);
    if (!moved.ok()) return moved;
    auto now = repo_->Get(m.id);
    if (!now.ok()) return now.status();
    return StepResult{*now, absl::ZeroDuration()};
  }

  absl::Status GiveUp(const store::MigrationRecord& m, const absl::Status& why,
                      const std::string& owner) override {
    store::MigrationChange change;
    change.error = why.ToString();
    const bool back = store::CanRollBack(m.state);
    return repo_->Transition(
        m.id, m.state, back ? store::MigrationState::kRollingBack : store::MigrationState::kFailed,
        change, absl::Now(), owner);
  }

  // Steps after the first `n` hang until Release() (a process that froze or died).
  void HangAfter(int n) {
    absl::MutexLock lock(&mu_);
    hang_after_ = n;
  }
  void Release() {
    absl::MutexLock lock(&mu_);
    hang_ = false;
    hang_after_ = -1;
  }
  // Steps in `state` fail with `status` (OK: none fails).
  void FailIn(const std::string& state, absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_in_ = state;
    fail_with_ = std::move(status);
  }
  std::vector<std::string> steps() {
    absl::MutexLock lock(&mu_);
    return steps_;
  }

 private:
  store::MigrationRepository* const repo_;
  absl::Mutex mu_;
  bool hang_ ABSL_GUARDED_BY(mu_) = false;
  int hang_after_ ABSL_GUARDED_BY(mu_) = -1;
  std::string fail_in_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_with_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> steps_ ABSL_GUARDED_BY(mu_);
};

class MigrationDriverTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    if (HasFatalFailure()) return;
    repo_ = std::make_unique<store::MigrationRepository>(pool_.get());
    ASSERT_TRUE(SeedRegion("eu-central", 50.1, 8.7).ok());
    ASSERT_TRUE(SeedLocation("fra-1", "eu-central", 50.1, 8.7).ok());
    ASSERT_TRUE(SeedResource(kResource).ok());
  }

  store::MigrationRecord Create(const std::string& request_id) {
    store::MigrationRecord draft;
    draft.request_id = request_id;
    draft.resource_id = kResource;
    draft.target_location = "fra-1";
    bool created = false;
    auto m = repo_->Create(draft, absl::Now(), &created);
    EXPECT_TRUE(m.ok()) << m.status();
    return *m;
  }

  std::string WaitForFinal(const std::string& id, absl::Duration limit) {
    const absl::Time deadline = absl::Now() + limit;
    std::string state;
    while (absl::Now() < deadline) {
      auto m = repo_->Get(id);
      if (m.ok()) {
        state = store::StateName(m->state);
        if (store::IsFinal(*store::ParseState(state))) return state;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return state;
  }

  MigrationDriverOptions Options(const std::string& owner) {
    MigrationDriverOptions o;
    o.owner = owner;
    o.tick = absl::Milliseconds(50);
    o.lease_ttl = absl::Milliseconds(600);
    o.retry_initial = absl::Milliseconds(20);
    o.retry_max = absl::Milliseconds(100);
    return o;
  }

  std::unique_ptr<store::MigrationRepository> repo_;
};

TEST_F(MigrationDriverTest, AnotherDriverResumesOnceTheLeaseOfADeadOneExpires) {
  ScriptedStepper stepper_a(repo_.get()), stepper_b(repo_.get());
  std::atomic<bool> a_alive{true};
  MigrationDriverOptions a_options = Options("server-a");
  a_options.ready = [&] { return a_alive.load(); };  // stops claiming, so stops heartbeating
  MigrationDriver a(repo_.get(), &stepper_a, a_options, nullptr);
  const store::MigrationRecord m = Create("takeover-1");

  // A runs the first step, then freezes in the second (as a process that hung or died would).
  stepper_a.HangAfter(1);
  a.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (stepper_a.steps().empty() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(5));
  a_alive = false;
  ASSERT_FALSE(stepper_a.steps().empty());
  EXPECT_EQ(stepper_a.steps().front(), "server-a:PLANNED");

  // B cannot take it while A's lease holds, and takes it once it has expired.
  MigrationDriver b(repo_.get(), &stepper_b, Options("server-b"), nullptr);
  ASSERT_TRUE(b.ClaimOnce().ok());
  auto held = repo_->Get(m.id);
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->lease_owner, "server-a") << "the lease still holds";
  b.Start();
  EXPECT_EQ(WaitForFinal(m.id, absl::Seconds(20)), "DONE");
  const std::vector<std::string> b_steps = stepper_b.steps();
  ASSERT_FALSE(b_steps.empty());
  EXPECT_NE(b_steps.front(), "server-b:PLANNED") << "resumed from the persisted state, not redone";

  // A wakes up: its step's transition is refused (the lease is B's), and it moves nothing.
  stepper_a.Release();
  a.Stop();
  b.Stop();
  auto events = repo_->Events(m.id);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> path;
  for (const auto& e : *events) path.push_back(e.to_state);
  EXPECT_EQ(absl::StrJoin(path, ","),
            "PLANNED,PREPARING_TARGET,PRECOPY,CUTOVER,RETIRING_SOURCE,OBSERVING,DONE")
      << "every state exactly once";
}

TEST_F(MigrationDriverTest, RetriableErrorsAreRetriedAndCountedThenGivenUpAfterTheDeadline) {
  ScriptedStepper stepper(repo_.get());
  stepper.FailIn("PLANNED", absl::UnavailableError("agent at fra-1 unreachable"));
  MigrationDriverOptions options = Options("server-a");
  options.step_deadline = absl::Milliseconds(700);
  MigrationDriver driver(repo_.get(), &stepper, options, nullptr);
  const store::MigrationRecord m = Create("retry-1");
  driver.Start();
  // Retried (and recorded) until the deadline, then rolled back (PLANNED can roll back).
  int attempts = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    auto now = repo_->Get(m.id);
    ASSERT_TRUE(now.ok());
    if (now->state != store::MigrationState::kPlanned) break;
    if (now->progress.attempts > attempts) {
      attempts = now->progress.attempts;
      EXPECT_TRUE(absl::StrContains(now->progress.last_error, "unreachable"));
      EXPECT_TRUE(now->progress.next_attempt_at.has_value());
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_GE(attempts, 2);
  EXPECT_EQ(WaitForFinal(m.id, absl::Seconds(10)), "ROLLED_BACK");
  auto done = repo_->Get(m.id);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE(absl::StrContains(done->error, "unreachable")) << done->error;

  // A permanent error gives up at once, without retries.
  stepper.FailIn("PRECOPY", absl::InvalidArgumentError("the agent refused the spec"));
  const store::MigrationRecord p = Create("permanent-1");
  driver.Wake();
  EXPECT_EQ(WaitForFinal(p.id, absl::Seconds(10)), "ROLLED_BACK");
  auto events = repo_->Events(p.id);
  ASSERT_TRUE(events.ok());
  std::vector<std::string> path;
  for (const auto& e : *events) path.push_back(e.to_state);
  EXPECT_EQ(absl::StrJoin(path, ","), "PLANNED,PREPARING_TARGET,PRECOPY,ROLLING_BACK,ROLLED_BACK");
  driver.Stop();
}

}  // namespace
}  // namespace shadowplane::migration
