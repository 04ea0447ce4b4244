// Checks every event and sample of a batch and turns the good ones into rows: each bad record is
// refused for one reason (counted, with the indexes of the first few), the rest of the batch is
// kept. Origins are resolved here (event's region, CIDR table, GeoIP, "unknown").
//
// Reasons: missing_field, invalid_field (too long, interval not positive, a timestamp the sender
// could not encode), malformed_ip,
// timestamp_in_future (more than `max_future` ahead of the clock), timestamp_too_old (older than
// the demand retention; for samples, the raw retention), unknown_resource, unknown_instance,
// unknown_region (an event's own region that is not defined), negative_value, not_a_number.
// An event older than the raw retention but within the demand retention is kept for demand only.
//
// CPU only, apart from a directory reload when an event names a resource or instance it does
// not know yet. Thread-safe.
#ifndef SHADOWPLANE_INGEST_EVENT_VALIDATOR_H_
#define SHADOWPLANE_INGEST_EVENT_VALIDATOR_H_

#include "absl/time/time.h"
#include "common/clock.h"
#include "ingest/access_batch.h"
#include "ingest/client_ip_storage.h"
#include "ingest/origin_lookup.h"
#include "ingest/resource_directory.h"
#include "ingest/validated_batch.h"

namespace shadowplane::ingest {

struct ValidationOptions {
  absl::Duration max_future = absl::Minutes(5);
  absl::Duration raw_retention = absl::Hours(24 * 30);
  absl::Duration demand_retention = absl::Hours(24 * 400);
  // How many indexes per reason an acknowledgement lists.
  int max_listed_indexes = 10;
  // What is kept of client addresses (ingest/client_ip_storage.h); the key for kHashed.
  ClientIpStorage client_ip_storage = ClientIpStorage::kFull;
  std::string client_ip_key;
};

class EventValidator {
 public:
  EventValidator(const Clock* clock, ResourceDirectory* directory, OriginLookup* origins,
                 ValidationOptions options)
      : clock_(clock), directory_(directory), origins_(origins), options_(options) {}

  ValidatedBatch Validate(const AccessBatch& batch) const;

 private:
  const Clock* const clock_;
  ResourceDirectory* const directory_;
  OriginLookup* const origins_;
  const ValidationOptions options_;
};

}  // namespace shadowplane::ingest

#endif  // SHADOWPLANE_INGEST_EVENT_VALIDATOR_H_
