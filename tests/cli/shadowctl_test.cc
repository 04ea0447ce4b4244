// shadowctl in process: the usage text comes from the command table, bad usage exits 2, renamed
// flags keep their old spelling with a deprecation message, and errors carry Abseil's status names.
#include "cli/shadowctl.h"

#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "cli/command.h"
#include "gtest/gtest.h"
#include "support/child_process.h"

namespace shadowplane::cli {
namespace {

struct Outcome {
  int code;
  std::string out, err;
};

Outcome Shadowctl(const std::vector<std::string>& words, const ShadowctlOptions& options) {
  std::ostringstream out, err;
  const int code = RunShadowctl(words, options, out, err);
  return {code, out.str(), err.str()};
}

ShadowctlOptions Unreachable() {
  ShadowctlOptions options;
  options.server = "127.0.0.1:" + std::to_string(testing::FreePort());  // nobody listens
  return options;
}

TEST(ShadowctlTest, UsageListsEveryCommandOfTheTable) {
  const std::string usage = ShadowctlUsage();
  ASSERT_EQ(Commands().size(), 42u)
      << "every command the dispatcher knew (plan twice: all, one), loadgen, accesses import, top "
         "and audit list";
  for (const Command& c : Commands()) {
    std::string synopsis = absl::StrJoin(c.words, " ");
    for (const std::string& operand : c.operands) synopsis += " " + operand;
    EXPECT_TRUE(absl::StrContains(usage, "  " + synopsis)) << synopsis;
    EXPECT_FALSE(c.summary.empty()) << synopsis;
  }
}

TEST(ShadowctlTest, BadUsageExitsTwoWithTheUsage) {
  for (const std::vector<std::string>& words :
       std::vector<std::vector<std::string>>{{},
                                             {"bogus"},
                                             {"locations"},
                                             {"migrations", "get"},
                                             {"migrations", "get", "a", "b"},
                                             {"sync"}}) {
    const Outcome o = Shadowctl(words, Unreachable());
    EXPECT_EQ(o.code, kExitUsage) << absl::StrJoin(words, " ");
    EXPECT_TRUE(absl::StrContains(o.err, "usage: shadowctl")) << o.err;
  }
  EXPECT_TRUE(
      absl::StrContains(Shadowctl({"bogus", "x"}, Unreachable()).err, "unknown command bogus x"));
}

TEST(ShadowctlTest, RenamedFlagsKeepTheirOldSpellingWithADeprecationMessage) {
  ShadowctlOptions old_spelling = Unreachable();
  old_spelling.to = "fra-1";
  old_spelling.kind = "emergency";
  Outcome o = Shadowctl({"migrate", "r-1"}, old_spelling);
  EXPECT_EQ(o.code, kExitRpcError);
  EXPECT_TRUE(absl::StrContains(o.err, "--to here is deprecated") &&
              absl::StrContains(o.err, "--target"))
      << o.err;
  EXPECT_TRUE(absl::StrContains(o.err, "--kind here is deprecated")) << o.err;
  // Errors are named as Abseil names them.
  EXPECT_TRUE(absl::StrContains(o.err, "shadowctl: UNAVAILABLE: ")) << o.err;

  ShadowctlOptions new_spelling = Unreachable();
  new_spelling.target = "fra-1";
  new_spelling.migration_kind = "emergency";
  new_spelling.to = "2026-01-01T00:00:00Z";  // demand's --to, not the target
  o = Shadowctl({"migrate", "r-1"}, new_spelling);
  EXPECT_EQ(o.code, kExitRpcError);
  EXPECT_FALSE(absl::StrContains(o.err, "deprecated")) << o.err;

  ShadowctlOptions event = Unreachable();
  event.kind = "campaign";
  event.start = "2026-01-01T00:00:00Z";
  event.end = "2026-01-02T00:00:00Z";
  event.name = "launch";
  o = Shadowctl({"events", "register"}, event);
  EXPECT_TRUE(absl::StrContains(o.err, "--name here is deprecated") &&
              absl::StrContains(o.err, "--event_name"))
      << o.err;
}

TEST(ShadowctlTest, LoadgenRefusesTargetsOffLoopbackAndBackfillsOnlyToAResource) {
  ShadowctlOptions options = Unreachable();
  options.locations_file = std::string(SHADOWPLANE_SOURCE_DIR) + "/deploy/local/locations.yaml";
  options.endpoint = "10.0.0.1:80";
  Outcome o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "refused")) << o.err;
  // Through DNS: the server, the name and the port are checked before anything is asked.
  options.endpoint = "127.0.0.1:80";
  options.dns_server = "192.0.2.53:53";
  options.service_name = "web.shadowplane.local";
  options.service_port = 8080;
  o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "--dns_server 192.0.2.53:53 is refused")) << o.err;
  options.dns_server = "127.0.0.1:1";
  options.service_name = "";
  o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "--service_name is required")) << o.err;
  options.service_name = "web.shadowplane.local";
  options.service_port = 0;
  o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "--service_port")) << o.err;
  options.dns_server = "";
  options.backfill_weeks = 1;
  o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "--resource")) << o.err;
  options.backfill_weeks = 0;
  options.trace = "/nonexistent/eia-regions";
  o = Shadowctl({"loadgen"}, options);
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_TRUE(absl::StrContains(o.err, "/nonexistent/eia-regions")) << o.err;
}

}  // namespace
}  // namespace shadowplane::cli
