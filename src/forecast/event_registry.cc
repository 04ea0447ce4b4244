#include "forecast/event_registry.h"

#include <google/protobuf/util/time_util.h>
#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/paging.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "store/uuid.h"

namespace shadowplane::forecast {

namespace pb = shadowplane::v1;
using google::protobuf::util::TimeUtil;

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

absl::Status CheckTime(const google::protobuf::Timestamp& t, const char* field) {
  if (t.seconds() < TimeUtil::kTimestampMinSeconds ||
      t.seconds() > TimeUtil::kTimestampMaxSeconds || t.nanos() < 0 || t.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is not a valid timestamp"));
  }
  return absl::OkStatus();
}

void ToProto(const store::EventRecord& e, pb::Event* out) {
  out->set_event_id(e.id);
  out->set_request_id(e.request_id);
  out->set_kind(e.kind);
  out->set_name(e.name);
  for (const std::string& r : e.resource_ids) out->add_resource_ids(r);
  for (const std::string& r : e.regions) out->add_regions(r);
  *out->mutable_start_time() = ToProtoTime(e.starts_at);
  *out->mutable_end_time() = ToProtoTime(e.ends_at);
  if (e.expected_uplift.has_value()) out->set_expected_uplift(*e.expected_uplift);
  *out->mutable_create_time() = ToProtoTime(e.created_at);
  if (e.measured_at.has_value()) *out->mutable_measure_time() = ToProtoTime(*e.measured_at);
}

absl::Status CheckEventId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("event_id is required");
  if (!store::LooksLikeUuid(id)) {
    return absl::InvalidArgumentError(absl::StrCat("event_id \"", id, "\" is not a UUID"));
  }
  return absl::OkStatus();
}

// INVALID_ARGUMENT naming the first bad field of a registration; OK otherwise.
absl::Status ValidateRegistration(const pb::RegisterEventRequest& r) {
  if (r.request_id().size() > kMaxRequestIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id is longer than ", kMaxRequestIdBytes, " bytes"));
  }
  if (r.kind().empty()) return absl::InvalidArgumentError("kind is required");
  if (!ValidKind(r.kind())) {
    return absl::InvalidArgumentError(absl::StrCat("kind \"", r.kind(),
                                                   "\" must match [a-z][a-z0-9_-]* (at most ",
                                                   kMaxKindBytes, " bytes), e.g. \"campaign\""));
  }
  if (r.name().size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name is longer than ", kMaxNameBytes, " bytes"));
  }
  if (r.resource_ids().empty() && r.regions().empty()) {
    return absl::InvalidArgumentError(
        "resource_ids or regions is required: an event affects some resources' demand, some "
        "regions' demand, or both");
  }
  if (r.resource_ids_size() > kMaxEventResources) {
    return absl::InvalidArgumentError(absl::StrCat("resource_ids has ", r.resource_ids_size(),
                                                   " entries; at most ", kMaxEventResources));
  }
  for (int i = 0; i < r.resource_ids_size(); ++i) {
    if (!store::LooksLikeUuid(r.resource_ids(i))) {
      return absl::InvalidArgumentError(
          absl::StrCat("resource_ids[", i, "] \"", r.resource_ids(i), "\" is not a UUID"));
    }
  }
  if (r.regions_size() > kMaxEventRegions) {
    return absl::InvalidArgumentError(
        absl::StrCat("regions has ", r.regions_size(), " entries; at most ", kMaxEventRegions));
  }
  for (int i = 0; i < r.regions_size(); ++i) {
    if (r.regions(i).empty()) {
      return absl::InvalidArgumentError(absl::StrCat("regions[", i, "] is empty"));
    }
  }
  if (!r.has_start_time()) return absl::InvalidArgumentError("start_time is required");
  if (!r.has_end_time()) return absl::InvalidArgumentError("end_time is required");
  RETURN_IF_ERROR(CheckTime(r.start_time(), "start_time"));
  RETURN_IF_ERROR(CheckTime(r.end_time(), "end_time"));
  const absl::Time start = FromProtoTime(r.start_time()), end = FromProtoTime(r.end_time());
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
  if (r.has_expected_uplift()) {
    const double u = r.expected_uplift();
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

absl::Status EventRegistry::Register(const pb::RegisterEventRequest& request,
                                     pb::RegisterEventResponse* response) {
  RETURN_IF_ERROR(ValidateRegistration(request));
  store::EventRecord e;
  e.request_id = request.request_id();
  e.kind = request.kind();
  e.name = request.name();
  std::set<std::string> seen;
  for (const std::string& id : request.resource_ids()) {
    const std::string lower = absl::AsciiStrToLower(id);
    if (seen.insert(lower).second) e.resource_ids.push_back(lower);
  }
  seen.clear();
  for (const std::string& r : request.regions()) {
    if (seen.insert(r).second) e.regions.push_back(r);
  }
  e.starts_at = FromProtoTime(request.start_time());
  e.ends_at = FromProtoTime(request.end_time());
  if (request.has_expected_uplift()) e.expected_uplift = request.expected_uplift();
  e.created_at = clock_->Now();
  bool created = false;
  ASSIGN_OR_RETURN(const store::EventRecord stored, events_->Insert(e, &created));
  ToProto(stored, response->mutable_event());
  response->set_created(created);
  if (created) {
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
  return absl::OkStatus();
}

absl::Status EventRegistry::Get(const pb::GetEventRequest& request, pb::Event* event) {
  RETURN_IF_ERROR(CheckEventId(request.event_id()));
  ASSIGN_OR_RETURN(const store::EventRecord e, events_->Get(request.event_id()));
  ASSIGN_OR_RETURN(const std::vector<store::EventOutcomeRecord> outcomes,
                   events_->OutcomesOf(e.id));
  ToProto(e, event);
  for (const store::EventOutcomeRecord& o : outcomes) {
    pb::EventOutcome* out = event->add_outcomes();
    out->set_resource_id(o.resource_id);
    out->set_hours(o.hours);
    out->set_actual(o.actual);
    out->set_baseline(o.baseline);
    out->set_uplift(o.baseline > 0 ? o.actual / o.baseline : 0);
  }
  return absl::OkStatus();
}

absl::Status EventRegistry::List(const pb::ListEventsRequest& request,
                                 pb::ListEventsResponse* response) {
  if (!request.resource_id().empty() && !store::LooksLikeUuid(request.resource_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("resource_id \"", request.resource_id(), "\" is not a UUID"));
  }
  store::EventFilter filter;
  filter.resource_id = absl::AsciiStrToLower(request.resource_id());
  filter.region = request.region();
  filter.kind = request.kind();
  if (request.has_ending_after()) {
    RETURN_IF_ERROR(CheckTime(request.ending_after(), "ending_after"));
    filter.ending_after = FromProtoTime(request.ending_after());
  }
  RETURN_IF_ERROR(PageSize(request.page_size(), &filter.page_size));
  filter.after = request.page_token();
  ASSIGN_OR_RETURN(const store::EventPage page, events_->List(filter));
  for (const store::EventRecord& e : page.events) ToProto(e, response->add_events());
  response->set_next_page_token(page.next);
  return absl::OkStatus();
}

absl::Status EventRegistry::Delete(const pb::DeleteEventRequest& request) {
  RETURN_IF_ERROR(CheckEventId(request.event_id()));
  RETURN_IF_ERROR(events_->Delete(request.event_id()));
  LOG_EVENT(kInfo, "event deleted").Field("event_id", request.event_id());
  return absl::OkStatus();
}

}  // namespace shadowplane::forecast
