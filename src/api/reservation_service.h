// shadowplane.v1.ReservationService: thin handlers over reservation::ReservationManager.
#ifndef SHADOWPLANE_API_RESERVATION_SERVICE_H_
#define SHADOWPLANE_API_RESERVATION_SERVICE_H_

#include "api/access/ownership.h"
#include "common/worker_pool.h"
#include "ingest/telemetry_purger.h"
#include "reservation/reservation_manager.h"
#include "shadowplane/v1/reservations.grpc.pb.h"

namespace shadowplane::api {

class ReservationService final : public shadowplane::v1::ReservationService::CallbackService {
 public:
  // Handlers run on `workers` (they block on the database and agents).
  // Changes are checked against the caller's team (`ownership`). `purger` may be null: then
  // Release with purge_telemetry is UNIMPLEMENTED.
  ReservationService(reservation::ReservationManager* manager, WorkerPool* workers,
                     access::Ownership* ownership, ingest::TelemetryPurger* purger = nullptr)
      : manager_(manager), workers_(workers), ownership_(ownership), purger_(purger) {}

  grpc::ServerUnaryReactor* Reserve(grpc::CallbackServerContext* context,
                                    const shadowplane::v1::ReserveRequest* request,
                                    shadowplane::v1::Reservation* response) override;
  grpc::ServerUnaryReactor* GetReservation(grpc::CallbackServerContext* context,
                                           const shadowplane::v1::GetReservationRequest* request,
                                           shadowplane::v1::Reservation* response) override;
  grpc::ServerUnaryReactor* ListReservations(
      grpc::CallbackServerContext* context, const shadowplane::v1::ListReservationsRequest* request,
      shadowplane::v1::ListReservationsResponse* response) override;
  grpc::ServerUnaryReactor* UpdateReservation(
      grpc::CallbackServerContext* context,
      const shadowplane::v1::UpdateReservationRequest* request,
      shadowplane::v1::Reservation* response) override;
  grpc::ServerUnaryReactor* Release(grpc::CallbackServerContext* context,
                                    const shadowplane::v1::ReleaseRequest* request,
                                    shadowplane::v1::Reservation* response) override;

 private:
  reservation::ReservationManager* const manager_;
  WorkerPool* const workers_;
  access::Ownership* const ownership_;
  ingest::TelemetryPurger* const purger_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_RESERVATION_SERVICE_H_
