#include "api/location_service.h"

#include <algorithm>
#include <set>

#include "catalog/catalog.h"
#include "common/fault_point.h"
#include "common/grpc_unary.h"
#include "common/log.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "planner/spot_prices.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

constexpr absl::Duration kPriceClockSkew = absl::Minutes(5);

void ToProto(const store::RegionRecord& r, pb::Region* out) {
  out->set_name(r.name);
  out->set_display_name(r.display_name);
  out->set_latitude(r.latitude);
  out->set_longitude(r.longitude);
  *out->mutable_updated_at() = ToProtoTime(r.updated_at);
}

void ToProto(const store::LocationRecord& l, pb::Location* out) {
  out->set_name(l.name);
  out->set_region(l.region);
  out->set_latitude(l.latitude);
  out->set_longitude(l.longitude);
  out->set_agent_endpoint(l.agent_endpoint);
  out->set_on_demand_price_per_vcpu_hour(l.on_demand_price_per_vcpu_hour);
  out->set_on_demand_price_per_gib_hour(l.on_demand_price_per_gib_hour);
  if (l.spot_price_per_vcpu_hour) out->set_spot_price_per_vcpu_hour(*l.spot_price_per_vcpu_hour);
  if (l.spot_price_per_gib_hour) out->set_spot_price_per_gib_hour(*l.spot_price_per_gib_hour);
  out->set_spot_availability(l.spot_availability);
  out->set_bandwidth_price_per_gb(l.bandwidth_price_per_gb);
  out->set_electricity_price_per_kwh(l.electricity_price_per_kwh);
  out->set_power_draw_watts_per_vcpu(l.power_draw_watts_per_vcpu);
  out->set_capacity_millicores(l.capacity_millicores);
  out->set_capacity_memory_mib(l.capacity_memory_mib);
  *out->mutable_updated_at() = ToProtoTime(l.updated_at);
  out->set_used_millicores(l.used_millicores);
  out->set_used_memory_mib(l.used_memory_mib);
  out->set_cordoned(l.cordoned);
  out->set_cordon_reason(l.cordon_reason);
  out->set_health(!l.lost_at.has_value()        ? "healthy"
                  : l.healthy_since.has_value() ? "recovering"
                                                : "lost");
  if (l.lost_at.has_value()) *out->mutable_lost_at() = ToProtoTime(*l.lost_at);
  out->set_lost_reason(l.lost_reason);
  if (l.healthy_since.has_value()) *out->mutable_healthy_since() = ToProtoTime(*l.healthy_since);
  if (l.drain_started_at.has_value()) {
    *out->mutable_drain_started_at() = ToProtoTime(*l.drain_started_at);
  }
}

// The latest reported prices, their age, and what the planner expects of them.
void PricesToProto(const store::LocationCatalog& catalog, absl::Time now, pb::Location* out) {
  const auto found = catalog.prices.find(out->name());
  if (found == catalog.prices.end() || found->second.observations.empty()) {
    out->set_price_basis("catalog");
    return;
  }
  const store::PriceRecord& p = found->second.observations.back();
  pb::LocationPrices* prices = out->mutable_current_prices();
  *prices->mutable_observed_at() = ToProtoTime(p.observed_at);
  *prices->mutable_age() = ToProtoDuration(std::max(absl::ZeroDuration(), now - p.observed_at));
  prices->set_on_demand_price_per_vcpu_hour(p.on_demand_price_per_vcpu_hour);
  prices->set_on_demand_price_per_gib_hour(p.on_demand_price_per_gib_hour);
  if (p.spot_price_per_vcpu_hour) prices->set_spot_price_per_vcpu_hour(*p.spot_price_per_vcpu_hour);
  if (p.spot_price_per_gib_hour) prices->set_spot_price_per_gib_hour(*p.spot_price_per_gib_hour);
  if (p.spot_availability) prices->set_spot_availability(*p.spot_availability);
  prices->set_source(p.source);
  if (found->second.spot_available_since) {
    *out->mutable_spot_available_since() = ToProtoTime(*found->second.spot_available_since);
  }
  planner::LocationFacts facts;
  planner::ApplyPriceHistory(found->second, &facts);
  out->set_price_basis(facts.price_basis);
}

void ToProto(const store::SpotInterruptionRecord& r, absl::Time real_now,
             pb::SpotInterruption* out) {
  out->set_id(r.id);
  out->set_location(r.location);
  *out->mutable_deadline() = ToProtoTime(r.deadline);
  out->set_deadline_passed(r.deadline <= real_now);
  for (const store::SpotFallbackRecord& f : r.fallbacks) {
    pb::SpotFallback* fb = out->add_fallbacks();
    fb->set_instance_id(f.instance_id);
    fb->set_role(f.role);
    fb->set_outcome(f.state == "pending" ? "pending" : f.outcome);
    fb->set_migration_id(f.migration_id);
    fb->set_detail(f.detail);
  }
}

store::LocationRecord FromProto(const pb::Location& l) {
  store::LocationRecord r;
  r.name = l.name();
  r.region = l.region();
  r.latitude = l.latitude();
  r.longitude = l.longitude();
  r.agent_endpoint = l.agent_endpoint();
  r.on_demand_price_per_vcpu_hour = l.on_demand_price_per_vcpu_hour();
  r.on_demand_price_per_gib_hour = l.on_demand_price_per_gib_hour();
  if (l.has_spot_price_per_vcpu_hour()) r.spot_price_per_vcpu_hour = l.spot_price_per_vcpu_hour();
  if (l.has_spot_price_per_gib_hour()) r.spot_price_per_gib_hour = l.spot_price_per_gib_hour();
  r.spot_availability = l.spot_availability();
  r.bandwidth_price_per_gb = l.bandwidth_price_per_gb();
  r.electricity_price_per_kwh = l.electricity_price_per_kwh();
  r.power_draw_watts_per_vcpu = l.power_draw_watts_per_vcpu();
  r.capacity_millicores = l.capacity_millicores();
  r.capacity_memory_mib = l.capacity_memory_mib();
  return r;
}

// The record named `name` in a list sorted by name, or null.
template <typename Record>
const Record* Find(const std::vector<Record>& sorted, const std::string& name) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), name,
                             [](const Record& r, const std::string& n) { return r.name < n; });
  return it != sorted.end() && it->name == name ? &*it : nullptr;
}

absl::Status RequireName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("name is required");
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* LocationService::UpsertRegion(grpc::CallbackServerContext* context,
                                                        const pb::UpsertRegionRequest* request,
                                                        pb::Region* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    if (!request->has_region()) return absl::InvalidArgumentError("region is required");
    store::RegionRecord r{request->region().name(), request->region().display_name(),
                          request->region().latitude(), request->region().longitude(),
                          clock_->Now()};
    RETURN_IF_ERROR(catalog::ValidateRegion(r));
    RETURN_IF_ERROR(repository_->UpsertRegion(r));
    FaultPoint("api.upsert_region.after_commit");
    cache_->Invalidate();
    ASSIGN_OR_RETURN(store::RegionRecord stored, repository_->GetRegion(r.name));
    ToProto(stored, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::GetRegion(grpc::CallbackServerContext* context,
                                                     const pb::GetRegionRequest* request,
                                                     pb::Region* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    ASSIGN_OR_RETURN(auto snapshot, cache_->Snapshot());
    const store::RegionRecord* r = Find(snapshot->regions, request->name());
    if (r == nullptr) {
      return absl::NotFoundError(absl::StrCat("region '", request->name(), "' does not exist"));
    }
    ToProto(*r, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ListRegions(grpc::CallbackServerContext* context,
                                                       const pb::ListRegionsRequest* request,
                                                       pb::ListRegionsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    store::Page page;
    RETURN_IF_ERROR(PageSize(request->page_size(), &page.page_size));
    ASSIGN_OR_RETURN(auto snapshot, cache_->Snapshot());
    int n = 0;
    for (const auto& r : snapshot->regions) {
      if (r.name <= request->page_token()) continue;
      if (n++ == page.page_size) {
        response->set_next_page_token(response->regions().rbegin()->name());
        break;
      }
      ToProto(r, response->add_regions());
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::DeleteRegion(grpc::CallbackServerContext* context,
                                                        const pb::DeleteRegionRequest* request,
                                                        pb::DeleteResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    RETURN_IF_ERROR(repository_->DeleteRegion(request->name()));
    cache_->Invalidate();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::UpsertLocation(grpc::CallbackServerContext* context,
                                                          const pb::UpsertLocationRequest* request,
                                                          pb::Location* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    if (!request->has_location()) return absl::InvalidArgumentError("location is required");
    store::LocationRecord l = FromProto(request->location());
    l.updated_at = clock_->Now();
    RETURN_IF_ERROR(catalog::ValidateLocation(l));
    RETURN_IF_ERROR(repository_->UpsertLocation(l));
    cache_->Invalidate();
    ASSIGN_OR_RETURN(store::LocationRecord stored, repository_->GetLocation(l.name));
    ToProto(stored, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::GetLocation(grpc::CallbackServerContext* context,
                                                       const pb::GetLocationRequest* request,
                                                       pb::Location* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    ASSIGN_OR_RETURN(auto snapshot, cache_->Snapshot());
    const store::LocationRecord* l = Find(snapshot->locations, request->name());
    if (l == nullptr) {
      return absl::NotFoundError(absl::StrCat("location '", request->name(), "' does not exist"));
    }
    ToProto(*l, response);
    PricesToProto(*snapshot, clock_->Now(), response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ListLocations(grpc::CallbackServerContext* context,
                                                         const pb::ListLocationsRequest* request,
                                                         pb::ListLocationsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    store::Page page;
    RETURN_IF_ERROR(PageSize(request->page_size(), &page.page_size));
    ASSIGN_OR_RETURN(auto snapshot, cache_->Snapshot());
    int n = 0;
    for (const auto& l : snapshot->locations) {
      if (l.name <= request->page_token()) continue;
      if (!request->region().empty() && l.region != request->region()) continue;
      if (n++ == page.page_size) {
        response->set_next_page_token(response->locations().rbegin()->name());
        break;
      }
      pb::Location* out = response->add_locations();
      ToProto(l, out);
      PricesToProto(*snapshot, clock_->Now(), out);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::DeleteLocation(grpc::CallbackServerContext* context,
                                                          const pb::DeleteLocationRequest* request,
                                                          pb::DeleteResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    RETURN_IF_ERROR(repository_->DeleteLocation(request->name()));
    cache_->Invalidate();
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::Cordon(grpc::CallbackServerContext* context,
                                                  const pb::CordonRequest* request,
                                                  pb::Location* response) {
  const std::string peer = context->peer();
  return FinishOnPool(
      context, request, workers_, [this, peer, request, response]() -> absl::Status {
        RETURN_IF_ERROR(RequireName(request->name()));
        if (request->reason().size() > 1000) {
          return absl::InvalidArgumentError("reason is over 1000 bytes");
        }
        ASSIGN_OR_RETURN(const store::LocationRecord l,
                         repository_->SetCordon(request->name(), true, request->reason()));
        cache_->Invalidate();
        LOG_EVENT(kWarning, "location cordoned")
            .Field("location", l.name)
            .Field("reason", l.cordon_reason)
            .Field("peer", peer);
        ToProto(l, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LocationService::Uncordon(grpc::CallbackServerContext* context,
                                                    const pb::UncordonRequest* request,
                                                    pb::Location* response) {
  const std::string peer = context->peer();
  return FinishOnPool(
      context, request, workers_, [this, peer, request, response]() -> absl::Status {
        RETURN_IF_ERROR(RequireName(request->name()));
        // An uncordon ends a drain too.
        ASSIGN_OR_RETURN(const store::LocationRecord l,
                         repository_->SetDrain(request->name(), std::nullopt, ""));
        cache_->Invalidate();
        LOG_EVENT(kInfo, "location uncordoned").Field("location", l.name).Field("peer", peer);
        ToProto(l, response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* LocationService::UncordonLocation(grpc::CallbackServerContext* context,
                                                            const pb::UncordonRequest* request,
                                                            pb::Location* response) {
  return Uncordon(context, request, response);
}

namespace {

void ToProto(const migration::DrainProgress& p, pb::LocationDrain* out) {
  ToProto(p.location, out->mutable_location());
  out->set_primaries_left(p.primaries_left);
  out->set_shadows_left(p.shadows_left);
  out->set_moves_in_flight(p.moves_in_flight);
  for (const std::string& b : p.blocked) out->add_blocked(b);
  out->set_done(p.done());
}

}  // namespace

grpc::ServerUnaryReactor* LocationService::DrainLocation(grpc::CallbackServerContext* context,
                                                         const pb::DrainLocationRequest* request,
                                                         pb::LocationDrain* response) {
  const std::string peer = context->peer();
  return FinishOnPool(context, request, workers_,
                      [this, peer, request, response]() -> absl::Status {
                        RETURN_IF_ERROR(catalog::ValidateName(request->name(), "name"));
                        if (request->reason().size() > 1000) {
                          return absl::InvalidArgumentError("reason is over 1000 bytes");
                        }
                        if (drainer_ == nullptr)
                          return absl::UnimplementedError("this server runs no drainer");
                        ASSIGN_OR_RETURN(const migration::DrainProgress p,
                                         drainer_->Start(request->name(), request->reason()));
                        cache_->Invalidate();
                        LOG_EVENT(kWarning, "location drain requested")
                            .Field("location", request->name())
                            .Field("primaries_left", p.primaries_left)
                            .Field("shadows_left", p.shadows_left)
                            .Field("peer", peer);
                        ToProto(p, response);
                        return absl::OkStatus();
                      });
}

grpc::ServerUnaryReactor* LocationService::GetLocationDrain(grpc::CallbackServerContext* context,
                                                            const pb::GetLocationRequest* request,
                                                            pb::LocationDrain* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    if (drainer_ == nullptr) return absl::UnimplementedError("this server runs no drainer");
    ASSIGN_OR_RETURN(const migration::DrainProgress p, drainer_->Progress(request->name()));
    ToProto(p, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ReportPrices(grpc::CallbackServerContext* context,
                                                        const pb::ReportPricesRequest* request,
                                                        pb::ReportPricesResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    if (spot_.prices == nullptr) return absl::UnimplementedError("prices are not kept here");
    if (request->source().size() > 64) {
      return absl::InvalidArgumentError("source is over 64 bytes");
    }
    std::vector<store::PriceRecord> records;
    if (request->prices_size() > static_cast<int>(catalog::kMaxPriceEntries)) {
      return absl::InvalidArgumentError(
          absl::StrCat("prices: at most ", catalog::kMaxPriceEntries, " entries per call"));
    }
    for (const pb::PriceReport& p : request->prices()) {
      store::PriceRecord r;
      r.location = p.location();
      if (p.has_observed_at()) r.observed_at = FromProtoTime(p.observed_at());
      r.on_demand_price_per_vcpu_hour = p.on_demand_price_per_vcpu_hour();
      r.on_demand_price_per_gib_hour = p.on_demand_price_per_gib_hour();
      if (p.has_spot_price_per_vcpu_hour())
        r.spot_price_per_vcpu_hour = p.spot_price_per_vcpu_hour();
      if (p.has_spot_price_per_gib_hour()) r.spot_price_per_gib_hour = p.spot_price_per_gib_hour();
      if (p.has_spot_availability()) r.spot_availability = p.spot_availability();
      r.source = request->source().empty() ? "provider" : request->source();
      records.push_back(std::move(r));
    }
    // A little skew between the reporter's clock and ours is fine; a time beyond it would stand
    // as the latest observation until it passed.
    const absl::Time latest_allowed = clock_->Now() + kPriceClockSkew;
    RETURN_IF_ERROR(catalog::ValidatePriceReports(records, "prices", latest_allowed));
    if (request->aws_spot_prices_size() > 0) {
      if (request->aws_spot_prices_size() > static_cast<int>(catalog::kMaxPriceEntries)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "aws_spot_prices: at most ", catalog::kMaxPriceEntries, " entries per call"));
      }
      std::vector<catalog::AwsSpotPriceEntry> entries;
      for (const pb::AwsSpotPrice& e : request->aws_spot_prices()) {
        entries.push_back(
            {e.availability_zone(), e.instance_type(), e.spot_price(), e.timestamp()});
      }
      ASSIGN_OR_RETURN(auto snapshot, cache_->Snapshot());
      ASSIGN_OR_RETURN(std::vector<store::PriceRecord> aws,
                       catalog::PricesFromAwsHistory(entries, spot_.mapping, snapshot->locations,
                                                     "aws_spot_prices", latest_allowed));
      for (store::PriceRecord& r : aws) {
        if (!request->source().empty()) r.source = request->source();
        records.push_back(std::move(r));
      }
    }
    RETURN_IF_ERROR(spot_.prices->Record(records, clock_->Now()));
    cache_->Invalidate();
    std::set<std::string> locations;
    for (const store::PriceRecord& r : records) locations.insert(r.location);
    response->set_recorded(static_cast<int32_t>(records.size()));
    for (const std::string& l : locations) response->add_locations(l);
    LOG_EVENT(kInfo, "prices recorded")
        .Field("rows", records.size())
        .Field("locations", locations.size())
        .Field("source", request->source());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ReportSpotInterruption(
    grpc::CallbackServerContext* context, const pb::ReportSpotInterruptionRequest* request,
    pb::SpotInterruption* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    if (spot_.fallback == nullptr) {
      return absl::UnimplementedError("spot interruptions are not handled here");
    }
    migration::InterruptionNotice notice;
    if (!request->location().empty()) {
      RETURN_IF_ERROR(catalog::ValidateName(request->location(), "location"));
    }
    notice.location = request->location();
    notice.instance_ids.assign(request->instance_ids().begin(), request->instance_ids().end());
    if (request->has_deadline()) notice.deadline = FromProtoTime(request->deadline());
    notice.reason = request->reason();
    ASSIGN_OR_RETURN(store::SpotInterruptionRecord recorded, spot_.fallback->Report(notice));
    cache_->Invalidate();
    ToProto(recorded, absl::Now(), response);
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
