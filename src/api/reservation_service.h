// shadowplane.v1.ReservationService: thin handlers over reservation::ReservationManager.
#ifndef SHADOWPLANE_API_RESERVATION_SERVICE_H_
#define SHADOWPLANE_API_RESERVATION_SERVICE_H_

#include "api/access/ownership.h"
#include "common/worker_pool.h"
#include "ingest/telemetry_purger.h"
#include "reservation/reservation_manager.h"
#include "reservation/reservation_view.h"
#include "shadowplane/v1/reservations.grpc.pb.h"

namespace shadowplane::api {

class ReservationService final : public shadowplane::v1::ReservationService::CallbackService {
 public:
  // Handlers run on `workers` (they block on the database and agents), but for a
  // GetReservation that `view` answers from memory, on gRPC's thread. Changes are checked against
  // the caller's team (`ownership`) and dropped from the view before they are answered. `purger`
  // may be null: then Release with purge_telemetry is UNIMPLEMENTED. `view` may be null: every
  // read goes to the database.
  ReservationService(reservation::ReservationManager* manager, WorkerPool* workers,
                     access::Ownership* ownership, ingest::TelemetryPurger* purger = nullptr,
                     reservation::ReservationView* view = nullptr)
      : manager_(manager), workers_(workers), ownership_(ownership), purger_(purger), view_(view) {}

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
  // Drops reservation `id` from the view (after a change made here: read-your-writes).
  void Forget(const std::string& id);

  reservation::ReservationManager* const manager_;
  WorkerPool* const workers_;
  access::Ownership* const ownership_;
  ingest::TelemetryPurger* const purger_;
  reservation::ReservationView* const view_;
};

}  // namespace shadowplane::api

#endif  // SHADOWPLANE_API_RESERVATION_SERVICE_H_
