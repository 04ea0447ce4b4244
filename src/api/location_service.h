// shadowplane.v1.LocationService: thin handlers over the location repository, with the catalog's
// validation. Thread-safe.
//
// Fault points (common/fault_point.h): "api.upsert_region.after_commit" (a region written, the
// call not yet answered: the audit trail's row written ahead stays PENDING).
#ifndef SHADOWPLANE_API_LOCATION_SERVICE_H_
#define SHADOWPLANE_API_LOCATION_SERVICE_H_

#include "catalog/location_cache.h"
#include "catalog/spot_price_import.h"
#include "common/clock.h"
#include "common/worker_pool.h"
#include "migration/location_drainer.h"
#include "migration/spot_fallback.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "store/location_repository.h"
#include "store/price_repository.h"

namespace shadowplane::api {

// What ReportPrices and ReportSpotInterruption need (each may be null: the call is then
// UNIMPLEMENTED).
struct LocationSpotSources {
  store::PriceRepository* prices = nullptr;
  // The locations file's aws_spot_mapping (empty: AWS entries name unknown zones).
  catalog::SpotPriceMapping mapping;
  migration::SpotFallback* fallback = nullptr;
};

class LocationService final : public shadowplane::v1::LocationService::CallbackService {
 public:
  using Spot = LocationSpotSources;

  // Handlers run on `workers` (they block on the database). Reads come from `cache`, which writes
  // invalidate. `drainer` (may be null: DrainLocation is then UNIMPLEMENTED) runs drains.
  LocationService(store::LocationRepository* repository, catalog::LocationCache* cache,
                  const Clock* clock, WorkerPool* workers,
                  migration::LocationDrainer* drainer = nullptr, Spot spot = {})
      : repository_(repository),
        cache_(cache),
        clock_(clock),
        workers_(workers),
        drainer_(drainer),
        spot_(std::move(spot)) {}

  grpc::ServerUnaryReactor* UpsertRegion(grpc::CallbackServerContext* context,
                                         const shadowplane::v1::UpsertRegionRequest* request,
                                         shadowplane::v1::Region* response) override;
  grpc::ServerUnaryReactor* GetRegion(grpc::CallbackServerContext* context,
                                      const shadowplane::v1::GetRegionRequest* request,
                                      shadowplane::v1::Region* response) override;
  grpc::ServerUnaryReactor* ListRegions(grpc::CallbackServerContext* context,
                                        const shadowplane::v1::ListRegionsRequest* request,
                                        shadowplane::v1::ListRegionsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteRegion(grpc::CallbackServerContext* context,
                                         const shadowplane::v1::DeleteRegionRequest* request,
                                         shadowplane::v1::DeleteResponse* response) override;
  grpc::ServerUnaryReactor* UpsertLocation(grpc::CallbackServerContext* context,
                                           const shadowplane::v1::UpsertLocationRequest* request,
                                           shadowplane::v1::Location* response) override;
  grpc::ServerUnaryReactor* GetLocation(grpc::CallbackServerContext* context,
                                        const shadowplane::v1::GetLocationRequest* request,
                                        shadowplane::v1::Location* response) override;
  grpc::ServerUnaryReactor* ListLocations(
      grpc::CallbackServerContext* context, const shadowplane::v1::ListLocationsRequest* request,
      shadowplane::v1::ListLocationsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteLocation(grpc::CallbackServerContext* context,
                                           const shadowplane::v1::DeleteLocationRequest* request,
                                           shadowplane::v1::DeleteResponse* response) override;
  grpc::ServerUnaryReactor* Cordon(grpc::CallbackServerContext* context,
                                   const shadowplane::v1::CordonRequest* request,
                                   shadowplane::v1::Location* response) override;
  grpc::ServerUnaryReactor* Uncordon(grpc::CallbackServerContext* context,
                                     const shadowplane::v1::UncordonRequest* request,
                                     shadowplane::v1::Location* response) override;
  grpc::ServerUnaryReactor* DrainLocation(grpc::CallbackServerContext* context,
                                          const shadowplane::v1::DrainLocationRequest* request,
                                          shadowplane::v1::LocationDrain* response) override;
  grpc::ServerUnaryReactor* GetLocationDrain(grpc::CallbackServerContext* context,
                                             const shadowplane::v1::GetLocationRequest* request,
                                             shadowplane::v1::LocationDrain* response) override;
  grpc::ServerUnaryReactor* UncordonLocation(grpc::CallbackServerContext* context,
                                             const shadowplane::v1::UncordonRequest* request,
                                             shadowplane::v1::Location* response) override;
  grpc::ServerUnaryReactor* ReportPrices(grpc::CallbackServerContext* context,
                                         const shadowplane::v1::ReportPricesRequest* request,
                                         shadowplane::v1::ReportPricesResponse* response) override;
  grpc::ServerUnaryReactor* ReportSpotInterruption(
      grpc::CallbackServerContext* context,
      const shadowplane::v1::ReportSpotInterruptionRequest* request,
      shadowplane::v1::SpotInterruption* response) override;

 private:
  store::LocationRepository* const repository_;
  catalog::LocationCache* const cache_;
  const Clock* const clock_;
  WorkerPool* const workers_;
  migration::LocationDrainer* const drainer_;
  const Spot spot_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_LOCATION_SERVICE_H_
