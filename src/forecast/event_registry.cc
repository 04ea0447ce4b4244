#include "forecast/event_registry.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::forecast {

namespace {

constexpr size_t kMaxKindBytes = 63;
constexpr size_t kMaxNameBytes = 200;
constexpr size_t kMaxRequestIdBytes = 128;

bool ValidKind(const std::string& kind) {
  if (kind.empty() || kind.size() > kMaxKindBytes || !absl::ascii_islower(kind[0])) return false;
  for (char c : kind) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '_' && c != '-') return false;
  }
  return true;
}

absl::Status CheckEventId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("event_id is required");
  if (!store::LooksLikeUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat("event_id \"", id, "\" is not a UUID"));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming the first bad field of a registration; OK otherwise.
absl::Status ValidateRegistration(const EventRegistration& r) {
  if (r.request_id.size() > kMaxRequestIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id is longer than ", kMaxRequestIdBytes, " bytes"));
  }
  if (r.kind.empty()) return absl::InvalidArgumentError("kind is required");
  if (!ValidKind(r.kind)) {
    return absl::InvalidArgumentError(absl::StrCat("kind \"", r.kind,
                                                   "\" must match [a-z][a-z0-9_-]* (at most ",
                                                   kMaxKindBytes, " bytes), e.g. \"campaign\""));
  }
  if (r.name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is longer than ", kMaxNameBytes, " bytes"));
  }
  if (r.resource_ids.empty() && r.regions.empty()) {
    return absl::InvalidArgumentError(
        "resource_ids or regions is required: an event affects some resources' demand, some "
        "regions' demand, or both");
  }
  if (r.resource_ids.size() > static_cast<size_t>(kMaxEventResources)) {
    return absl::InvalidArgumentError(absl::StrCat("resource_ids has ", r.resource_ids.size(),
                                                   " entries; at most ", kMaxEventResources));
  }
  for (size_t i = 0; i < r.resource_ids.size(); ++i) {
    if (!store::LooksLikeUuid(r.resource_ids[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource_ids[", i, "] \"", r.resource_ids[i], "\" is not a UUID"));
    }
  }
  if (r.regions.size() > static_cast<size_t>(kMaxEventRegions)) {
    return absl::InvalidArgumentError(
        absl::StrCat("regions has ", r.regions.size(), " entries; at most ", kMaxEventRegions));
  }
  for (size_t i = 0; i < r.regions.size(); ++i) {
    if (r.regions[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat("regions[", i, "] is empty"));
    }
  }
  if (!r.starts_at.has_value()) return absl::InvalidArgumentError("start_time is required");
  if (!r.ends_at.has_value()) return absl::InvalidArgumentError("end_time is required");
  const absl::Time start = *r.starts_at, end = *r.ends_at;
  if (end <= start) {
    return absl::InvalidArgumentError(absl::StrCat("end_time (", absl::FormatTime(end),
                                                   ") must be after start_time (",
                                                   absl::FormatTime(start), ")"));
  }
  if (end - start > kMaxEventWindow) {
    return absl::InvalidArgumentError(
        absl::StrCat("end_time: an event lasts at most ", absl::FormatDuration(kMaxEventWindow),
                     ", this one ", absl::FormatDuration(end - start)));
  }
  if (r.expected_uplift.has_value()) {
    const double u = *r.expected_uplift;
    if (!std::isfinite(u) || u < 0 || u > kMaxUplift) {
      return absl::InvalidArgumentError(
          absl::StrCat("expected_uplift must be a demand multiplier within [0, ", kMaxUplift,
                       "] (2 doubles demand, 0.5 halves it), got ", u));
    }
  }
  return absl::OkStatus();
}

}  // namespace

EventRegistry::EventRegistry(store::EventRepository* events, const Clock* clock,
                             prometheus::Registry* registry)
    : events_(events), clock_(clock) {
  if (registry == nullptr) return;
  registered_ = &prometheus::BuildCounter()
                     .Name("shadowplane_events_registered_total")
                     .Help("Known events registered, by whether an uplift was given or is learned")
                     .Register(*registry);
}

absl::StatusOr<RegisteredEvent> EventRegistry::Register(const EventRegistration& request) {
  RETURN_IF_ERROR(ValidateRegistration(request));
  store::EventRecord e;
  e.request_id = request.request_id;
  e.kind = request.kind;
  e.name = request.name;
  std::set<std::string> seen;
  for (const std::string& id : request.resource_ids) {
    const std::string lower = absl::AsciiStrToLower(id);
    if (seen.insert(lower).second) e.resource_ids.push_back(lower);
  }
  seen.clear();
  for (const std::string& r : request.regions) {
    if (seen.insert(r).second) e.regions.push_back(r);
  }
  e.starts_at = *request.starts_at;
  e.ends_at = *request.ends_at;
  e.expected_uplift = request.expected_uplift;
  e.created_at = clock_->Now();
  RegisteredEvent registered;
  ASSIGN_OR_RETURN(registered.event, events_->Insert(e, &registered.created));
  if (registered.created) {
    const store::EventRecord& stored = registered.event;
    if (registered_ != nullptr) {
      registered_->Add({{"uplift", e.expected_uplift.has_value() ? "given" : "learned"}})
          .Increment();
    }
    LOG_EVENT(kInfo, "event registered")
        .Field("event_id", stored.id)
        .Field("kind", stored.kind)
        .Field("resources", static_cast<int64_t>(stored.resource_ids.size()))
        .Field("regions", static_cast<int64_t>(stored.regions.size()))
        .Field("hours", absl::ToDoubleHours(stored.ends_at - stored.starts_at));
  }
  return registered;
}

absl::StatusOr<EventWithOutcomes> EventRegistry::Get(const std::string& event_id) {
  RETURN_IF_ERROR(CheckEventId(event_id));
  EventWithOutcomes found;
  ASSIGN_OR_RETURN(found.event, events_->Get(event_id));
  ASSIGN_OR_RETURN(found.outcomes, events_->OutcomesOf(found.event.id));
  return found;
}

absl::StatusOr<store::EventPage> EventRegistry::List(const EventQuery& query) {
  if (!query.resource_id.empty() && !store::LooksLikeUuid(query.resource_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_id \"", query.resource_id, "\" is not a UUID"));
  }
  store::EventFilter filter;
  filter.resource_id = absl::AsciiStrToLower(query.resource_id);
  filter.region = query.region;
  filter.kind = query.kind;
  filter.ending_after = query.ending_after;
  RETURN_IF_ERROR(PageSize(query.page_size, &filter.page_size));
  filter.after = query.page_token;
  return events_->List(filter);
}

absl::Status EventRegistry::Delete(const std::string& event_id) {
  RETURN_IF_ERROR(CheckEventId(event_id));
  RETURN_IF_ERROR(events_->Delete(event_id));
  LOG_EVENT(kInfo, "event deleted").Field("event_id", event_id);
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
