// What the monitoring tests ask of a PromQL expression (an alert's, a dashboard panel's): the
// metric names it reads, and the names the server and the agents expose.
#ifndef SHADOWPLANE_TESTS_SUPPORT_METRIC_NAMES_H_
#define SHADOWPLANE_TESTS_SUPPORT_METRIC_NAMES_H_

#include <set>
#include <string>
#include <vector>

namespace shadowplane::testing {

// The metric names `expr` reads (a histogram's _sum, _count and _bucket as the histogram; label
// names in matchers and in by/without/on/ignoring/group_* lists are not metrics).
std::set<std::string> MetricsIn(const std::string& expr);

// Every metric family (# TYPE lines) served at http://127.0.0.1:<port>/metrics for each of
// `ports`, and "up" (Prometheus' own, for every target). A port that does not answer adds a test
// failure.
std::set<std::string> ExposedMetrics(const std::vector<int>& ports);

}  // namespace shadowplane::testing

#endif  // SHADOWPLANE_TESTS_SUPPORT_METRIC_NAMES_H_
