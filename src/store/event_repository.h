// Known demand events (`demand_events`) and what they did (`demand_event_outcomes`). Thread-safe
// (each call takes a pooled connection).
#ifndef SHADOWPLANE_STORE_EVENT_REPOSITORY_H_
#define SHADOWPLANE_STORE_EVENT_REPOSITORY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "store/connection_pool.h"

namespace shadowplane::store {

struct EventRecord {
  std::string id;
  std::string request_id;  // empty: none
  std::string kind;
  std::string name;
  std::vector<std::string> resource_ids;  // empty: every resource with demand from `regions`
  std::vector<std::string> regions;       // empty: all of the resources' demand
  absl::Time starts_at, ends_at;
  std::optional<double> expected_uplift;
  absl::Time created_at;
  std::optional<absl::Time> measured_at;
};

// What an event did to one resource (see forecast::EventOutcome).
struct EventOutcomeRecord {
  std::string event_id;
  std::string resource_id;
  int hours = 0;
  double actual = 0;
  double baseline = 0;
};

// An event affecting a resource, with its outcome for that resource once measured.
struct ResourceEvent {
  EventRecord event;
  std::optional<EventOutcomeRecord> outcome;
};

struct EventFilter {
  std::string resource_id;  // empty: any; else events naming it or naming no resource
  std::string region;       // empty: any; else events naming it or naming no region
  std::string kind;         // empty: any
  std::optional<absl::Time> ending_after;
  int page_size = 100;
  std::string after;  // the page token of the previous page
};

struct EventPage {
  std::vector<EventRecord> events;  // by start, then id
  std::string next;                 // empty: no more
};

class EventRepository {
 public:
  explicit EventRepository(ConnectionPool* pool) : pool_(pool) {}

  // Stores a new event (the database makes its id; created_at as given) after
  // checking, in the same transaction, that its resources (not deleted) and regions exist:
  // NOT_FOUND naming the first that does not ("resource_ids[2]: ..."). With a request_id already
  // used, returns that event instead and sets *created to false.
  absl::StatusOr<EventRecord> Insert(const EventRecord& event, bool* created);
  // NOT_FOUND for an unknown id.
  absl::StatusOr<EventRecord> Get(const std::string& id);
  absl::StatusOr<EventPage> List(const EventFilter& filter);
  // Deletes the event and its outcomes; NOT_FOUND for an unknown id.
  absl::Status Delete(const std::string& id);

  // Events that may affect `resource_id` (naming it, or naming regions only) and overlap
  // [from, to), by start, each with the resource's outcome when measured.
  absl::StatusOr<std::vector<ResourceEvent>> ForResource(const std::string& resource_id,
                                                         absl::Time from, absl::Time to);
  // Every event overlapping [from, to), whatever it names, by start.
  absl::StatusOr<std::vector<EventRecord>> Overlapping(absl::Time from, absl::Time to);
  // Events that ended by `ended_by` and were not measured yet, those ending first first.
  absl::StatusOr<std::vector<EventRecord>> Unmeasured(absl::Time ended_by, int limit);
  // Stores an event's outcomes and marks it measured, in one transaction. NOT_FOUND when the
  // event was deleted meanwhile.
  absl::Status RecordOutcomes(const std::string& event_id,
                              const std::vector<EventOutcomeRecord>& outcomes,
                              absl::Time measured_at);
  // The newest `limit` outcomes of events of `kind` (of `resource_id`'s, or any resource's when
  // empty) that ended by `ended_by`, newest first.
  absl::StatusOr<std::vector<EventOutcomeRecord>> Outcomes(
      const std::string& kind, const std::string& resource_id, int limit,
      absl::Time ended_by = absl::InfiniteFuture());
  // An event's outcomes, by resource.
  absl::StatusOr<std::vector<EventOutcomeRecord>> OutcomesOf(const std::string& event_id);

 private:
  ConnectionPool* const pool_;
};

}  // namespace shadowplane::store

#endif  // SHADOWPLANE_STORE_EVENT_REPOSITORY_H_
