// absl::Duration to the steady clock's duration that Asio and Beast timers take.
#ifndef SHADOWPLANE_INSTANCE_ASIO_DURATION_H_
#define SHADOWPLANE_INSTANCE_ASIO_DURATION_H_

#include <chrono>

#include "absl/time/time.h"

namespace shadowplane::instance {

inline std::chrono::steady_clock::duration Chrono(absl::Duration d) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(d));
}

}  // namespace shadowplane::instance

#endif  // SHADOWPLANE_INSTANCE_ASIO_DURATION_H_
