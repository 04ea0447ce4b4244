#include "api/reservation_service.h"

#include "absl/cleanup/cleanup.h"
#include "api/planner_mapping.h"
#include "common/grpc_unary.h"
#include "common/proto_time.h"
#include "common/status_macros.h"
#include "planner/placement_constraint.h"
#include "planner/planner_overrides_codec.h"

namespace shadowplane::api {

namespace pb = shadowplane::v1;

namespace {

pb::CapacityType ToProto(CapacityType type) {
  return type == CapacityType::kSpot ? pb::SPOT : pb::ON_DEMAND;
}

void ToProto(const store::InstanceRecord& i, pb::Instance* out) {
  out->set_id(i.id);
  out->set_role(i.role);
  out->set_location(i.location);
  out->set_region(i.region);
  out->set_millicores(i.capacity.millicores);
  out->set_memory_mib(i.capacity.memory_mib);
  out->set_capacity_type(ToProto(i.capacity.type));
  out->set_read_only(i.read_only);
  out->set_state(i.state);
  out->set_endpoint(i.endpoint);
}

void ToProto(const store::ReservationRecord& r, absl::Time now, pb::Reservation* out) {
  out->set_id(r.id);
  out->set_request_id(r.request_id);
  out->set_resource_id(r.resource_id);
  out->set_name(r.name);
  out->set_state(r.state);
  out->set_millicores(r.capacity.millicores);
  out->set_memory_mib(r.capacity.memory_mib);
  out->set_capacity_type(ToProto(r.capacity.type));
  out->set_data_size_bytes(r.data_size_bytes);
  out->set_shadow_capacity_fraction(r.shadow_capacity_fraction);
  out->set_shadow_sync_interval_seconds(r.shadow_sync_interval_seconds);
  planner::PlacementConstraint placement;
  (void)planner::PlacementFromJson(r.placement_json, &placement);
  for (const auto& l : placement.locations) out->mutable_placement()->add_locations(l);
  for (const auto& g : placement.regions) out->mutable_placement()->add_regions(g);
  for (const auto& c : placement.client_regions) {
    pb::ClientRegion* client = out->mutable_placement()->add_client_regions();
    client->set_region(c.region);
    client->set_weight(c.weight);
  }
  if (!r.primary.id.empty()) ToProto(r.primary, out->mutable_primary());
  if (!r.shadow.id.empty()) ToProto(r.shadow, out->mutable_shadow());
  out->set_explanation(r.explanation);
  out->set_error(r.error);
  out->set_traffic_provider(r.traffic_provider);
  out->set_service_name(r.service_name);
  out->set_owner_team(r.owner_team);
  planner::PlannerOverrides overrides;
  if (planner::OverridesFromJson(r.planner_overrides_json, &overrides)) {
    api::ToProto(overrides, out->mutable_planner());
  }
  *out->mutable_created_at() = ToProtoTime(r.created_at);
  *out->mutable_updated_at() = ToProtoTime(r.updated_at);
  if (r.last_synced_at.has_value()) {
    *out->mutable_last_synced_at() = ToProtoTime(*r.last_synced_at);
    out->set_shadow_staleness_seconds(
        std::max(0.0, absl::ToDoubleSeconds(now - *r.last_synced_at)));
  } else if (r.state == "active") {
    // Never synced: as stale as the reservation is old.
    out->set_shadow_staleness_seconds(std::max(0.0, absl::ToDoubleSeconds(now - r.created_at)));
  }
  out->set_last_sync_error(r.last_sync_error);
  if (r.telemetry_purge_requested_at.has_value()) {
    *out->mutable_telemetry_purge_requested_at() = ToProtoTime(*r.telemetry_purge_requested_at);
  }
  if (r.telemetry_purged_at.has_value()) {
    *out->mutable_telemetry_purged_at() = ToProtoTime(*r.telemetry_purged_at);
  }
}

}  // namespace

void ReservationService::Forget(const std::string& id) {
  if (view_ != nullptr) view_->Invalidate(id);
}

grpc::ServerUnaryReactor* ReservationService::Reserve(grpc::CallbackServerContext* context,
                                                      const pb::ReserveRequest* request,
                                                      pb::Reservation* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        reservation::ReserveSpec spec;
        ASSIGN_OR_RETURN(spec.owner_team, access::TeamOfNewReservation(caller, request->team()));
        spec.request_id = request->request_id();
        spec.name = request->name();
        spec.capacity.millicores = request->millicores();
        spec.capacity.memory_mib = request->memory_mib();
        switch (request->capacity_type()) {
          case pb::SPOT:
            spec.capacity.type = CapacityType::kSpot;
            break;
          case pb::ON_DEMAND:
          case pb::CAPACITY_TYPE_UNSPECIFIED:
            break;
          default:
            return absl::InvalidArgumentError("capacity_type is not a known capacity type");
        }
        spec.data_size_bytes = request->data_size_bytes();
        spec.seed_dir = request->seed_dir();
        spec.service_name = request->service_name();
        if (request->has_shadow_capacity_fraction()) {
          spec.shadow_capacity_fraction = request->shadow_capacity_fraction();
        }
        if (request->has_shadow_sync_interval_seconds()) {
          spec.shadow_sync_interval_seconds = request->shadow_sync_interval_seconds();
        }
        const pb::PlacementConstraint& placement = request->placement();
        spec.locations.assign(placement.locations().begin(), placement.locations().end());
        spec.regions.assign(placement.regions().begin(), placement.regions().end());
        for (const auto& c : placement.client_regions()) {
          spec.client_regions.push_back({c.region(), c.weight()});
        }
        if (request->has_planner()) {
          ASSIGN_OR_RETURN(spec.planner, api::FromProto(request->planner()));
        }
        ASSIGN_OR_RETURN(store::ReservationRecord r, manager_->Reserve(spec));
        // A retried request may have finished a pending reservation a read here has kept.
        if (view_ != nullptr) view_->Invalidate(r.id);
        ToProto(r, manager_->clock()->Now(), response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReservationService::GetReservation(
    grpc::CallbackServerContext* context, const pb::GetReservationRequest* request,
    pb::Reservation* response) {
  auto from_memory = [this, request, response]() -> std::optional<absl::Status> {
    if (view_ == nullptr) return std::nullopt;
    reservation::ReservationView::Record r = view_->Lookup(request->id());
    if (r == nullptr) return std::nullopt;
    ToProto(*r, manager_->clock()->Now(), response);
    return absl::OkStatus();
  };
  return FinishFromMemoryOrOnPool(
      context, request, workers_, from_memory, [this, request, response]() -> absl::Status {
        if (view_ == nullptr) {
          ASSIGN_OR_RETURN(store::ReservationRecord r, manager_->Get(request->id()));
          ToProto(r, manager_->clock()->Now(), response);
          return absl::OkStatus();
        }
        ASSIGN_OR_RETURN(reservation::ReservationView::Record r,
                         view_->Get(request->id(), [&] { return manager_->Get(request->id()); }));
        ToProto(*r, manager_->clock()->Now(), response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReservationService::ListReservations(
    grpc::CallbackServerContext* context, const pb::ListReservationsRequest* request,
    pb::ListReservationsResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    store::ReservationFilter filter;
    RETURN_IF_ERROR(PageSize(request->page_size(), &filter.page_size));
    filter.after = request->page_token();
    filter.state = request->state();
    filter.location = request->location();
    filter.owner_team = request->team();
    ASSIGN_OR_RETURN(auto reservations, manager_->List(filter));
    const absl::Time now = manager_->clock()->Now();
    for (const auto& r : reservations) ToProto(r, now, response->add_reservations());
    if (static_cast<int>(reservations.size()) == filter.page_size) {
      response->set_next_page_token(reservations.back().id);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ReservationService::UpdateReservation(
    grpc::CallbackServerContext* context, const pb::UpdateReservationRequest* request,
    pb::Reservation* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        RETURN_IF_ERROR(ownership_->CheckReservation(caller, request->id()));
        // Whatever the outcome (a failure may have changed something), before the answer.
        absl::Cleanup forget = [this, request] { Forget(request->id()); };
        reservation::ReservationUpdate update;
        if (request->has_shadow_sync_interval_seconds()) {
          update.shadow_sync_interval_seconds = request->shadow_sync_interval_seconds();
        }
        if (request->has_shadow_capacity_fraction()) {
          update.shadow_capacity_fraction = request->shadow_capacity_fraction();
        }
        if (request->has_millicores()) update.millicores = request->millicores();
        if (request->has_memory_mib()) update.memory_mib = request->memory_mib();
        if (request->has_planner()) {
          ASSIGN_OR_RETURN(update.planner, api::FromProto(request->planner()));
        }
        update.reset_planner = request->reset_planner();
        ASSIGN_OR_RETURN(store::ReservationRecord r, manager_->Update(request->id(), update));
        ToProto(r, manager_->clock()->Now(), response);
        return absl::OkStatus();
      });
}

grpc::ServerUnaryReactor* ReservationService::Release(grpc::CallbackServerContext* context,
                                                      const pb::ReleaseRequest* request,
                                                      pb::Reservation* response) {
  const GateCaller caller = CallGate::CallerOf(context);
  return FinishOnPool(
      context, request, workers_, [this, caller, request, response]() -> absl::Status {
        RETURN_IF_ERROR(ownership_->CheckReservation(caller, request->id()));
        absl::Cleanup forget = [this, request] { Forget(request->id()); };
        if (request->purge_telemetry()) {
          if (purger_ == nullptr)
            return absl::UnimplementedError("this server cannot purge telemetry");
          if (request->id().empty()) return absl::InvalidArgumentError("id is required");
          // The intent first: a release finished later (or after a restart) still purges.
          RETURN_IF_ERROR(purger_->Request(request->id()));
        }
        ASSIGN_OR_RETURN(store::ReservationRecord r, manager_->Release(request->id()));
        if (request->purge_telemetry() && (r.state == "released" || r.state == "failed")) {
          // The first purge now; the purger's loop makes the last once every replica refuses the
          // resource's events, and retries this one should it fail.
          absl::StatusOr<int> purged = purger_->RunOnce(r.id);
          if (purged.ok() && *purged > 0) {
            ASSIGN_OR_RETURN(r, manager_->Get(r.id));
          }
        }
        ToProto(r, manager_->clock()->Now(), response);
        return absl::OkStatus();
      });
}

}  // namespace shadowplane::api
