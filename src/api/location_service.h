// shadowplane.v1.LocationService: thin handlers over the location repository, with the catalog's
// validation. Thread-safe.
#ifndef SHADOWPLANE_API_LOCATION_SERVICE_H_
#define SHADOWPLANE_API_LOCATION_SERVICE_H_

#include "common/clock.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "store/location_repository.h"

namespace shadowplane::api {

class LocationService final : public shadowplane::v1::LocationService::CallbackService {
 public:
  LocationService(store::LocationRepository* repository, const Clock* clock)
      : repository_(repository), clock_(clock) {}

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

 private:
  store::LocationRepository* const repository_;
  const Clock* const clock_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_LOCATION_SERVICE_H_
