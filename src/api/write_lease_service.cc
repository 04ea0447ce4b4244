#include "api/write_lease_service.h"

#include "absl/strings/str_cat.h"
#include "common/grpc_unary.h"
#include "common/status_macros.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "store/uuid.h"

namespace shadowplane::api {

namespace pb = shadowplane::agent::v1;

namespace {

pb::LeaseAnswer::Verdict ToProto(store::LeaseVerdict verdict) {
  switch (verdict) {
    case store::LeaseVerdict::kGranted:
      return pb::LeaseAnswer::GRANTED;
    case store::LeaseVerdict::kSuperseded:
      return pb::LeaseAnswer::SUPERSEDED;
    case store::LeaseVerdict::kNotWriter:
      return pb::LeaseAnswer::NOT_WRITER;
  }
  return pb::LeaseAnswer::NOT_WRITER;
}

}  // namespace

absl::Status ValidateRenewal(const pb::RenewWriteLeasesRequest& request) {
  if (request.location().empty() || request.location().size() > 64) {
    return absl::InvalidArgumentError("location must be 1 to 64 characters");
  }
  if (request.leases_size() > kMaxLeasesPerRenewal) {
    return absl::InvalidArgumentError(absl::StrCat("leases: at most ", kMaxLeasesPerRenewal,
                                                   " per call, got ", request.leases_size()));
  }
  for (int i = 0; i < request.leases_size(); ++i) {
    const pb::HeldLease& held = request.leases(i);
    if (!store::LooksLikeUuid(held.instance_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "leases[", i, "].instance_id \"", held.instance_id().substr(0, 64), "\" is not a UUID"));
    }
    if (held.epoch() < 1) {
      return absl::InvalidArgumentError(absl::StrCat("leases[", i, "].epoch must be 1 or more"));
    }
  }
  return absl::OkStatus();
}

WriteLeaseService::WriteLeaseService(store::WriteLeaseRepository* leases, absl::Duration lease,
                                     WorkerPool* workers, prometheus::Registry* registry)
    : leases_(leases), lease_(lease), workers_(workers) {
  if (registry != nullptr) {
    renewals_ = &prometheus::BuildCounter()
                     .Name("shadowplane_write_lease_renewals_total")
                     .Help("Agents' write lease renewals, by verdict")
                     .Register(*registry);
  }
}

grpc::ServerUnaryReactor* WriteLeaseService::RenewWriteLeases(
    grpc::CallbackServerContext* context, const pb::RenewWriteLeasesRequest* request,
    pb::RenewWriteLeasesResponse* response) {
  return FinishOnPool(context, request, workers_, [this, request, response]() -> absl::Status {
    RETURN_IF_ERROR(ValidateRenewal(*request));
    std::vector<store::HeldLease> held;
    held.reserve(request->leases_size());
    for (const pb::HeldLease& h : request->leases()) held.push_back({h.instance_id(), h.epoch()});
    // One transaction for the agent's every lease.
    ASSIGN_OR_RETURN(const std::vector<store::LeaseRenewal> renewals,
                     leases_->RenewAll(request->location(), held, lease_));
    for (size_t k = 0; k < held.size(); ++k) {
      const store::LeaseRenewal& renewal = renewals[k];
      pb::LeaseAnswer* answer = response->add_answers();
      answer->set_instance_id(held[k].instance_id);
      answer->set_verdict(ToProto(renewal.verdict));
      answer->set_current_epoch(renewal.current_epoch);
      if (renewal.verdict == store::LeaseVerdict::kGranted) {
        answer->set_lease_ms(absl::ToInt64Milliseconds(lease_));
      }
      if (renewals_ != nullptr) {
        renewals_->Add({{"verdict", store::LeaseVerdictName(renewal.verdict)}}).Increment();
      }
    }
    return absl::OkStatus();
  });
}

}  // namespace shadowplane::api
