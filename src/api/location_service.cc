#include "api/location_service.h"

#include <google/protobuf/util/time_util.h>

#include "api/unary.h"
#include "catalog/catalog.h"
#include "common/status_macros.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;
using google::protobuf::util::TimeUtil;

namespace {

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

void ToProto(const store::RegionRecord& r, pb::Region* out) {
  out->set_name(r.name);
  out->set_display_name(r.display_name);
  out->set_latitude(r.latitude);
  out->set_longitude(r.longitude);
  *out->mutable_updated_at() = ToTimestamp(r.updated_at);
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
  *out->mutable_updated_at() = ToTimestamp(l.updated_at);
  out->set_used_millicores(l.used_millicores);
  out->set_used_memory_mib(l.used_memory_mib);
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

absl::Status RequireName(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("name is required");
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* LocationService::UpsertRegion(grpc::CallbackServerContext* context,
                                                        const pb::UpsertRegionRequest* request,
                                                        pb::Region* response) {
  return FinishWith(context, [&]() -> absl::Status {
    if (!request->has_region()) return absl::InvalidArgumentError("region is required");
    store::RegionRecord r{request->region().name(), request->region().display_name(),
                          request->region().latitude(), request->region().longitude(),
                          clock_->Now()};
    RETURN_IF_ERROR(catalog::ValidateRegion(r));
    RETURN_IF_ERROR(repository_->UpsertRegion(r));
    ASSIGN_OR_RETURN(store::RegionRecord stored, repository_->GetRegion(r.name));
    ToProto(stored, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::GetRegion(grpc::CallbackServerContext* context,
                                                     const pb::GetRegionRequest* request,
                                                     pb::Region* response) {
  return FinishWith(context, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    ASSIGN_OR_RETURN(store::RegionRecord r, repository_->GetRegion(request->name()));
    ToProto(r, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ListRegions(grpc::CallbackServerContext* context,
                                                       const pb::ListRegionsRequest* request,
                                                       pb::ListRegionsResponse* response) {
  return FinishWith(context, [&]() -> absl::Status {
    store::Page page;
    RETURN_IF_ERROR(PageSize(request->page_size(), &page.page_size));
    page.after = request->page_token();
    ASSIGN_OR_RETURN(auto regions, repository_->ListRegions(page));
    for (const auto& r : regions) ToProto(r, response->add_regions());
    if (static_cast<int>(regions.size()) == page.page_size) {
      response->set_next_page_token(regions.back().name);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::DeleteRegion(grpc::CallbackServerContext* context,
                                                        const pb::DeleteRegionRequest* request,
                                                        pb::DeleteResponse* response) {
  return FinishWith(context, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    return repository_->DeleteRegion(request->name());
  });
}

grpc::ServerUnaryReactor* LocationService::UpsertLocation(grpc::CallbackServerContext* context,
                                                          const pb::UpsertLocationRequest* request,
                                                          pb::Location* response) {
  return FinishWith(context, [&]() -> absl::Status {
    if (!request->has_location()) return absl::InvalidArgumentError("location is required");
    store::LocationRecord l = FromProto(request->location());
    l.updated_at = clock_->Now();
    RETURN_IF_ERROR(catalog::ValidateLocation(l));
    RETURN_IF_ERROR(repository_->UpsertLocation(l));
    ASSIGN_OR_RETURN(store::LocationRecord stored, repository_->GetLocation(l.name));
    ToProto(stored, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::GetLocation(grpc::CallbackServerContext* context,
                                                       const pb::GetLocationRequest* request,
                                                       pb::Location* response) {
  return FinishWith(context, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    ASSIGN_OR_RETURN(store::LocationRecord l, repository_->GetLocation(request->name()));
    ToProto(l, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::ListLocations(grpc::CallbackServerContext* context,
                                                         const pb::ListLocationsRequest* request,
                                                         pb::ListLocationsResponse* response) {
  return FinishWith(context, [&]() -> absl::Status {
    store::Page page;
    RETURN_IF_ERROR(PageSize(request->page_size(), &page.page_size));
    page.after = request->page_token();
    ASSIGN_OR_RETURN(auto locations, repository_->ListLocations(page, request->region()));
    for (const auto& l : locations) ToProto(l, response->add_locations());
    if (static_cast<int>(locations.size()) == page.page_size) {
      response->set_next_page_token(locations.back().name);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* LocationService::DeleteLocation(grpc::CallbackServerContext* context,
                                                          const pb::DeleteLocationRequest* request,
                                                          pb::DeleteResponse* response) {
  return FinishWith(context, [&]() -> absl::Status {
    RETURN_IF_ERROR(RequireName(request->name()));
    return repository_->DeleteLocation(request->name());
  });
}

}  // namespace shadowplane::api
