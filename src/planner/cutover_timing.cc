#include "planner/cutover_timing.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace shadowplane::planner {

PrecopyEstimate EstimatePrecopy(const PrecopyInputs& in) {
  PrecopyEstimate out;
  const bool measured = std::isfinite(in.measured_bandwidth) && in.measured_bandwidth > 0;
  out.bandwidth = measured ? in.measured_bandwidth : in.default_bandwidth;
  out.bandwidth_source = measured ? "measured" : "default";
  if (!(out.bandwidth > 0) || in.data_bytes <= 0) {
    out.real = out.domain = absl::ZeroDuration();
    return out;
  }
  // The first round moves the data; each later one what changed during the one before. A dirty
  // rate at or above the bandwidth never converges: every allowed round runs full length.
  const double first = static_cast<double>(in.data_bytes) / out.bandwidth;
  const double ratio = std::isfinite(in.dirty_bytes_per_second) && in.dirty_bytes_per_second > 0
                           ? in.dirty_bytes_per_second / out.bandwidth
                           : 0;
  double seconds = 0;
  double round = first;
  for (int r = 0; r < std::max(1, in.max_rounds); ++r) {
    seconds += round;
    round *= std::min(ratio, 1.0);
    if (round < 1e-3) break;
  }
  seconds *= std::max(1.0, in.safety);
  const double scale = std::isfinite(in.time_scale) && in.time_scale > 0 ? in.time_scale : 1;
  // Bounded so that a huge resource on a thin link still gives a representable duration.
  seconds = std::min(seconds, 365.0 * 86400);
  out.real = absl::Seconds(seconds);
  out.domain = absl::Seconds(std::min(seconds * scale, 10 * 365.0 * 86400));
  return out;
}

namespace {

size_t HourIndex(const HourlyOutlook& h, absl::Time t) {
  if (h.requests.empty() || t <= h.first_hour) return 0;
  const int64_t i = absl::ToInt64Hours(t - h.first_hour);
  return static_cast<size_t>(std::min<int64_t>(i, static_cast<int64_t>(h.requests.size()) - 1));
}

std::string Round(absl::Duration d) {
  return absl::FormatDuration(
      absl::Trunc(d, d >= absl::Hours(1) ? absl::Minutes(1) : absl::Seconds(1)));
}

}  // namespace

CutoverTiming PlanCutover(absl::Time now, absl::Duration precopy, const HourlyOutlook& hours,
                          const std::vector<BlackoutWindow>& blackouts) {
  CutoverTiming out;
  const absl::Time earliest = now + std::max(precopy, absl::ZeroDuration());
  const size_t n =
      std::min({hours.requests.size(), hours.current_cost.size(), hours.target_cost.size()});
  const size_t here = HourIndex(hours, now);
  std::optional<size_t> shift;
  for (size_t h = here; h < n; ++h) {
    if (hours.target_cost[h] < hours.current_cost[h]) {
      shift = h;
      break;
    }
  }
  auto finish = [&](absl::Time cutover) {
    out.cutover_at = cutover;
    out.start_at = std::max(now, cutover - precopy);
    if (n > 0) {
      const size_t at = HourIndex(hours, cutover);
      out.requests_at_cutover = hours.requests[at];
      if (hours.requests[here] > 0 && std::isfinite(hours.requests[at] / hours.requests[here])) {
        out.demand_ratio_at_cutover = hours.requests[at] / hours.requests[here];
      }
    }
  };

  if (!shift.has_value() || *shift == here) {
    finish(earliest);
    out.why = absl::StrCat(
        shift.has_value()
            ? "the target costs less from the current hour on"
            : "no single forecast hour favours the target, the horizon as a whole does",
        ": start at once, cut over when pre-copy ends (estimated ", Round(precopy), ")");
    return out;
  }
  const absl::Time shift_at = hours.first_hour + absl::Hours(static_cast<int64_t>(*shift));
  out.shift_at = shift_at;
  if (shift_at <= earliest) {
    finish(earliest);
    out.late = shift_at < earliest;
    out.late_by = earliest - shift_at;
    out.why = absl::StrCat("the shift at ", MinuteText(shift_at),
                           " comes before pre-copy can end (", Round(precopy),
                           "): start at once; the shift is reached ", Round(out.late_by), " late");
    return out;
  }
  // The trough in [earliest, shift): the earliest moment itself, an hour's start after it, or
  // the end of a blackout window; never a moment inside a blackout window.
  auto blacked_out = [&blackouts](absl::Time t) {
    for (const BlackoutWindow& w : blackouts) {
      if (t >= w.start && t < w.end) return true;
    }
    return false;
  };
  std::vector<absl::Time> candidates = {earliest};
  for (absl::Time t = absl::Ceil(earliest - hours.first_hour, absl::Hours(1)) + hours.first_hour;
       t < shift_at; t += absl::Hours(1)) {
    if (t > earliest) candidates.push_back(t);
  }
  for (const BlackoutWindow& w : blackouts) {
    if (w.end > earliest && w.end < shift_at) candidates.push_back(w.end);
  }
  std::sort(candidates.begin(), candidates.end());
  absl::Time best = earliest;
  std::optional<double> best_requests;
  for (absl::Time t : candidates) {
    if (blacked_out(t)) continue;
    const double q = n > 0 ? hours.requests[HourIndex(hours, t)] : 0;
    if (!best_requests.has_value() || q < *best_requests) {
      best = t;
      best_requests = q;
    }
  }
  if (!best_requests.has_value()) {
    best_requests = n > 0 ? hours.requests[HourIndex(hours, earliest)] : 0;
  }
  finish(best);
  out.hold = best > earliest;
  out.why = absl::StrFormat(
      "pre-copy (estimated %s) ends before the shift at %s; cut over at %s, the forecast trough "
      "before it (%.0f requests in that hour)",
      Round(precopy), MinuteText(shift_at), MinuteText(best), *best_requests);
  return out;
}

std::string MinuteText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%MZ", t, absl::UTCTimeZone());
}

}  // namespace shadowplane::planner
