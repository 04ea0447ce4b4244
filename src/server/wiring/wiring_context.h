// What every wiring unit of the control plane gets: the domain clock, the metrics registry and
// whether the database is ready (background work waits for it).
#ifndef SHADOWPLANE_SERVER_WIRING_WIRING_CONTEXT_H_
#define SHADOWPLANE_SERVER_WIRING_WIRING_CONTEXT_H_

#include <functional>
#include <optional>

#include "api/access/token_store.h"
#include "catalog/catalog.h"
#include "common/clock.h"
#include "common/transport_security.h"
#include "geo/distance.h"
#include "server/server_options.h"

namespace prometheus {
class Registry;
}  // namespace prometheus

namespace shadowplane::server {

struct WiringContext {
  const Clock* clock = nullptr;
  prometheus::Registry* registry = nullptr;
  std::function<bool()> database_ready;
  // The declarative locations file, when one is given (its measured RTTs feed placement).
  const std::optional<catalog::CatalogFile>* catalog = nullptr;
  // TLS or plaintext, for the API and the calls to agents.
  std::shared_ptr<const TransportSecurity> transport;
  // The callers and team quotas of --tokens_file; null without one (callers not authenticated).
  std::shared_ptr<api::access::TokenStore> tokens;
};

// The RTT model placement uses: the estimate per distance, with the locations file's measured
// RTTs winning over it.
geo::RttModel PlacementRtt(const PlacementSettings& placement, const WiringContext& context);

}  // namespace shadowplane::server

#endif  // SHADOWPLANE_SERVER_WIRING_WIRING_CONTEXT_H_
