// Whether an instance answers at its endpoint: the failure detectors' direct look at a resource,
// beside what its agent says (migration/primary_loss_detector.h,
// reconcile/location_health_monitor.h).
#ifndef SHADOWPLANE_PROVIDERS_INSTANCE_PROBE_H_
#define SHADOWPLANE_PROVIDERS_INSTANCE_PROBE_H_

#include <string>

#include "absl/time/time.h"

namespace shadowplane::providers {

// Whether the instance at `endpoint` (host:port) answers its status page with 200 within
// `timeout`. Only whether it answers matters: at most 64 KiB of the answer are read (an instance
// is a peer, and a hostile one could send without end). False for a malformed endpoint.
bool InstanceAnswers(const std::string& endpoint, absl::Duration timeout);

}  // namespace shadowplane::providers

#endif  // SHADOWPLANE_PROVIDERS_INSTANCE_PROBE_H_
