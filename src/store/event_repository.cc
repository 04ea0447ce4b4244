#include "store/event_repository.h"

#include <pqxx/pqxx>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/sql_time.h"
#include "store/uuid.h"

namespace shadowplane::store {

namespace {

constexpr char kEventColumns[] =
    "e.id::text, COALESCE(e.request_id, ''), e.kind, e.name, "
    "array_to_string(e.resource_ids, ','), array_to_string(e.regions, ','), " SP_SQL_UTC(
        "e.starts_at") ", " SP_SQL_UTC("e.ends_at") ", e.expected_uplift, " SP_SQL_UTC(
        "e.created_at") ", " SP_SQL_UTC("e.measured_at");
constexpr int kEventColumnCount = 11;

constexpr char kOutcomeColumns[] =
    "o.event_id::text, o.resource_id::text, o.hours, o.actual, o.baseline";

std::vector<std::string> SplitNames(const pqxx::field& f) {
  return absl::StrSplit(f.c_str(), ',', absl::SkipEmpty());
}

EventRecord EventFromRow(const pqxx::row& r) {
  EventRecord e;
  e.id = r[0].as<std::string>();
  e.request_id = r[1].as<std::string>();
  e.kind = r[2].as<std::string>();
  e.name = r[3].as<std::string>();
  e.resource_ids = SplitNames(r[4]);
  e.regions = SplitNames(r[5]);
  e.starts_at = FromSqlTime(r[6].as<std::string>());
  e.ends_at = FromSqlTime(r[7].as<std::string>());
  if (!r[8].is_null()) e.expected_uplift = r[8].as<double>();
  e.created_at = FromSqlTime(r[9].as<std::string>());
  if (!r[10].is_null()) e.measured_at = FromSqlTime(r[10].as<std::string>());
  return e;
}

EventOutcomeRecord OutcomeFromRow(const pqxx::row& r, int first) {
  EventOutcomeRecord o;
  o.event_id = r[first].as<std::string>();
  o.resource_id = r[first + 1].as<std::string>();
  o.hours = r[first + 2].as<int>();
  o.actual = r[first + 3].as<double>();
  o.baseline = r[first + 4].as<double>();
  return o;
}

std::string TextArray(const std::vector<std::string>& values) {
  SqlArray a;
  for (const std::string& v : values) a.AddText(v);
  return a.Take();
}

// The 0-based position of the first name in `array_param` with no row in `table`, if any.
std::optional<int64_t> FirstMissing(pqxx::work& txn, const std::string& values,
                                    const char* element_type, const char* exists_clause) {
  const pqxx::result r =
      txn.exec_params(absl::StrCat("SELECT i FROM unnest($1::", element_type,
                                   "[]) WITH ORDINALITY AS v(name, i) WHERE NOT EXISTS (",
                                   exists_clause, ") ORDER BY i LIMIT 1"),
                      values);
  if (r.empty()) return std::nullopt;
  return r[0][0].as<int64_t>() - 1;
}

// Page tokens: "<start in unix microseconds>_<id>".
std::string PageToken(const EventRecord& e) {
  return absl::StrCat(absl::ToUnixMicros(e.starts_at), "_", e.id);
}

}  // namespace

absl::StatusOr<EventRecord> EventRepository::Insert(const EventRecord& event, bool* created) {
  *created = false;
  return pool_->Run(
      "registering an event", [&](pqxx::connection& conn) -> absl::StatusOr<EventRecord> {
        pqxx::work txn(conn);
        auto existing = [&]() -> std::optional<EventRecord> {
          if (event.request_id.empty()) return std::nullopt;
          const pqxx::result r = txn.exec_params(
              absl::StrCat("SELECT ", kEventColumns, " FROM demand_events e WHERE request_id = $1"),
              event.request_id);
          if (r.empty()) return std::nullopt;
          return EventFromRow(r[0]);
        };
        if (std::optional<EventRecord> e = existing()) return *e;
        const std::string resources = TextArray(event.resource_ids);
        const std::string regions = TextArray(event.regions);
        if (auto i = FirstMissing(txn, resources, "uuid",
                                  "SELECT 1 FROM resources s WHERE s.id = v.name AND "
                                  "s.deleted_at IS NULL")) {
          return absl::NotFoundError(absl::StrCat("resource_ids[", *i, "]: resource ",
                                                  event.resource_ids[*i], " not found"));
        }
        if (auto i = FirstMissing(txn, regions, "text",
                                  "SELECT 1 FROM regions g WHERE g.name = v.name")) {
          return absl::NotFoundError(
              absl::StrCat("regions[", *i, "]: region \"", event.regions[*i], "\" not found"));
        }
        std::optional<std::string> request_id;
        if (!event.request_id.empty()) request_id = event.request_id;
        const pqxx::result inserted = txn.exec_params(
            absl::StrCat("WITH e AS (INSERT INTO demand_events (request_id, kind, name, "
                         "resource_ids, regions, starts_at, ends_at, expected_uplift, created_at) "
                         "VALUES ($1, $2, $3, $4::uuid[], $5::text[], $6::timestamptz, "
                         "$7::timestamptz, $8, $9::timestamptz) ON CONFLICT (request_id) DO "
                         "NOTHING RETURNING *) SELECT ",
                         kEventColumns, " FROM e"),
            request_id, event.kind, event.name, resources, regions, ToSqlTime(event.starts_at),
            ToSqlTime(event.ends_at), event.expected_uplift, ToSqlTime(event.created_at));
        if (inserted.empty()) {
          // Registered by a concurrent retry between the check and the insert.
          std::optional<EventRecord> e = existing();
          if (!e.has_value()) return absl::AbortedError("event registration raced; retry");
          return *e;
        }
        EventRecord out = EventFromRow(inserted[0]);
        txn.commit();
        *created = true;
        return out;
      });
}

absl::StatusOr<EventRecord> EventRepository::Get(const std::string& id) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  return pool_->Run("reading an event", [&](pqxx::connection& conn) -> absl::StatusOr<EventRecord> {
    pqxx::read_transaction txn(conn);
    const pqxx::result r = txn.exec_params(
        absl::StrCat("SELECT ", kEventColumns, " FROM demand_events e WHERE id = $1::uuid"), id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
    return EventFromRow(r[0]);
  });
}

absl::StatusOr<EventPage> EventRepository::List(const EventFilter& filter) {
  int64_t after_micros = 0;
  std::string after_id;
  const bool paged = !filter.after.empty();
  if (paged) {
    std::vector<std::string> parts = absl::StrSplit(filter.after, absl::MaxSplits('_', 1));
    if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &after_micros) ||
        !LooksLikeUuid(parts[1])) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token \"", filter.after, "\" is not one this server returned"));
    }
    after_id = parts[1];
  }
  std::optional<std::string> resource, region, kind, ending_after, after_time, after_uuid;
  if (!filter.resource_id.empty()) {
    if (!LooksLikeUuid(filter.resource_id)) return EventPage{};
    resource = filter.resource_id;
  }
  if (!filter.region.empty()) region = filter.region;
  if (!filter.kind.empty()) kind = filter.kind;
  if (filter.ending_after.has_value()) ending_after = ToSqlTime(*filter.ending_after);
  if (paged) {
    after_time = ToSqlTime(absl::FromUnixMicros(after_micros));
    after_uuid = after_id;
  }
  return pool_->Run("listing events", [&](pqxx::connection& conn) -> absl::StatusOr<EventPage> {
    pqxx::read_transaction txn(conn);
    const pqxx::result rows = txn.exec_params(
        absl::StrCat(
            "SELECT ", kEventColumns,
            " FROM demand_events e WHERE ($1::uuid IS NULL OR cardinality(e.resource_ids) = 0 "
            "OR $1::uuid = ANY(e.resource_ids)) AND ($2::text IS NULL OR "
            "cardinality(e.regions) = 0 OR $2 = ANY(e.regions)) AND ($3::text IS NULL OR "
            "e.kind = $3) AND ($4::timestamptz IS NULL OR e.ends_at > $4::timestamptz) AND "
            "($5::timestamptz IS NULL OR (e.starts_at, e.id) > ($5::timestamptz, $6::uuid)) "
            "ORDER BY e.starts_at, e.id LIMIT $7"),
        resource, region, kind, ending_after, after_time, after_uuid, filter.page_size + 1);
    EventPage page;
    for (const auto& r : rows) page.events.push_back(EventFromRow(r));
    if (static_cast<int>(page.events.size()) > filter.page_size) {
      page.events.pop_back();
      page.next = PageToken(page.events.back());
    }
    return page;
  });
}

absl::Status EventRepository::Delete(const std::string& id) {
  if (!LooksLikeUuid(id)) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  return pool_->Run("deleting an event", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    const pqxx::result r =
        txn.exec_params("DELETE FROM demand_events WHERE id = $1::uuid RETURNING id", id);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<ResourceEvent>> EventRepository::ForResource(
    const std::string& resource_id, absl::Time from, absl::Time to) {
  if (!LooksLikeUuid(resource_id)) return std::vector<ResourceEvent>{};
  return pool_->Run(
      "reading a resource's events",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<ResourceEvent>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kEventColumns, ", ", kOutcomeColumns,
                         " FROM demand_events e LEFT JOIN demand_event_outcomes o ON "
                         "o.event_id = e.id AND o.resource_id = $1::uuid WHERE "
                         "(cardinality(e.resource_ids) = 0 OR $1::uuid = ANY(e.resource_ids)) "
                         "AND e.starts_at < $3::timestamptz AND e.ends_at > $2::timestamptz "
                         "ORDER BY e.starts_at, e.id"),
            resource_id, ToSqlTime(from), ToSqlTime(to));
        std::vector<ResourceEvent> out;
        for (const auto& r : rows) {
          ResourceEvent re;
          re.event = EventFromRow(r);
          if (!r[kEventColumnCount].is_null()) re.outcome = OutcomeFromRow(r, kEventColumnCount);
          out.push_back(std::move(re));
        }
        return out;
      });
}

absl::StatusOr<std::vector<EventRecord>> EventRepository::Overlapping(absl::Time from,
                                                                      absl::Time to) {
  return pool_->Run(
      "reading events in a window",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<EventRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kEventColumns,
                         " FROM demand_events e WHERE e.starts_at < $2::timestamptz AND "
                         "e.ends_at > $1::timestamptz ORDER BY e.starts_at, e.id"),
            ToSqlTime(from), ToSqlTime(to));
        std::vector<EventRecord> out;
        for (const auto& r : rows) out.push_back(EventFromRow(r));
        return out;
      });
}

absl::StatusOr<std::vector<EventRecord>> EventRepository::Unmeasured(absl::Time ended_by,
                                                                     int limit) {
  return pool_->Run(
      "reading events to measure",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<EventRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kEventColumns,
                         " FROM demand_events e WHERE e.measured_at IS NULL AND e.ends_at <= "
                         "$1::timestamptz ORDER BY e.ends_at, e.id LIMIT $2"),
            ToSqlTime(ended_by), limit);
        std::vector<EventRecord> out;
        for (const auto& r : rows) out.push_back(EventFromRow(r));
        return out;
      });
}

absl::Status EventRepository::RecordOutcomes(const std::string& event_id,
                                             const std::vector<EventOutcomeRecord>& outcomes,
                                             absl::Time measured_at) {
  return pool_->Run("recording event outcomes", [&](pqxx::connection& conn) -> absl::Status {
    pqxx::work txn(conn);
    // Locks the event, so that a concurrent delete waits or wins whole.
    const pqxx::result marked = txn.exec_params(
        "UPDATE demand_events SET measured_at = $2::timestamptz WHERE id = $1::uuid "
        "RETURNING kind, " SP_SQL_UTC("ends_at"),
        event_id, ToSqlTime(measured_at));
    if (marked.empty()) return absl::NotFoundError(absl::StrCat("event ", event_id, " not found"));
    SqlArray resources, hours, actual, baseline;
    for (const EventOutcomeRecord& o : outcomes) {
      resources.AddText(o.resource_id);
      hours.AddInt(o.hours);
      actual.AddDouble(o.actual);
      baseline.AddDouble(o.baseline);
    }
    txn.exec_params(
        "INSERT INTO demand_event_outcomes (event_id, resource_id, kind, ends_at, hours, actual, "
        "baseline) SELECT $1::uuid, r, $2, $3::timestamptz, h, a, b FROM unnest($4::uuid[], "
        "$5::int[], $6::float8[], $7::float8[]) AS u(r, h, a, b) "
        "ON CONFLICT (event_id, resource_id) DO UPDATE SET hours = EXCLUDED.hours, "
        "actual = EXCLUDED.actual, baseline = EXCLUDED.baseline",
        event_id, marked[0][0].as<std::string>(), marked[0][1].as<std::string>(), resources.Take(),
        hours.Take(), actual.Take(), baseline.Take());
    txn.commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<EventOutcomeRecord>> EventRepository::Outcomes(
    const std::string& kind, const std::string& resource_id, int limit, absl::Time ended_by) {
  std::optional<std::string> by;
  if (ended_by != absl::InfiniteFuture()) by = ToSqlTime(ended_by);
  std::optional<std::string> resource;
  if (!resource_id.empty()) {
    if (!LooksLikeUuid(resource_id)) return std::vector<EventOutcomeRecord>{};
    resource = resource_id;
  }
  return pool_->Run(
      "reading event outcomes",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<EventOutcomeRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kOutcomeColumns,
                         " FROM demand_event_outcomes o WHERE o.kind = $1 AND ($2::uuid IS NULL "
                         "OR o.resource_id = $2::uuid) AND ($4::timestamptz IS NULL OR o.ends_at "
                         "<= $4::timestamptz) ORDER BY o.ends_at DESC, o.event_id, "
                         "o.resource_id LIMIT $3"),
            kind, resource, limit, by);
        std::vector<EventOutcomeRecord> out;
        for (const auto& r : rows) out.push_back(OutcomeFromRow(r, 0));
        return out;
      });
}

absl::StatusOr<std::vector<EventOutcomeRecord>> EventRepository::OutcomesOf(
    const std::string& event_id) {
  if (!LooksLikeUuid(event_id)) return std::vector<EventOutcomeRecord>{};
  return pool_->Run(
      "reading an event's outcomes",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<EventOutcomeRecord>> {
        pqxx::read_transaction txn(conn);
        const pqxx::result rows = txn.exec_params(
            absl::StrCat("SELECT ", kOutcomeColumns,
                         " FROM demand_event_outcomes o WHERE o.event_id = $1::uuid ORDER BY "
                         "o.resource_id"),
            event_id);
        std::vector<EventOutcomeRecord> out;
        for (const auto& r : rows) out.push_back(OutcomeFromRow(r, 0));
        return out;
      });
}

#undef SP_UTC

}  // namespace shadowplane::store
