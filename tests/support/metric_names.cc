#include "support/metric_names.h"

#include <httplib.h>

#include <regex>

#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"

namespace shadowplane::testing {

std::set<std::string> MetricsIn(const std::string& expr) {
  static const std::regex kLabels(
      "\\{[^}]*\\}|\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)");
  const std::string names = std::regex_replace(expr, kLabels, " ");
  std::set<std::string> out;
  static const std::regex kName("\\b((shadowplane|grpc)_[a-z0-9_]+|up)\\b");
  for (auto it = std::sregex_iterator(names.begin(), names.end(), kName);
       it != std::sregex_iterator(); ++it) {
    const std::string text = it->str();
    absl::string_view name = text;
    for (const char* suffix : {"_sum", "_count", "_bucket"}) {
      if (absl::ConsumeSuffix(&name, suffix)) break;
    }
    out.insert(std::string(name));
  }
  return out;
}

std::set<std::string> ExposedMetrics(const std::vector<int>& ports) {
  std::set<std::string> out = {"up"};
  for (int port : ports) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/metrics");
    EXPECT_TRUE(res && res->status == 200) << "metrics on port " << port;
    if (!res) continue;
    static const std::regex kType("# TYPE ([a-zA-Z0-9_:]+) ");
    for (auto it = std::sregex_iterator(res->body.begin(), res->body.end(), kType);
         it != std::sregex_iterator(); ++it) {
      out.insert((*it)[1].str());
    }
  }
  return out;
}

}  // namespace shadowplane::testing
