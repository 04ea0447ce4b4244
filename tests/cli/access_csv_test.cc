// Existing access logs as imported: every row of a good file, and the first bad row of a bad one
// named by line and column (nothing is imported from it).
#include "cli/access_csv.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace shadowplane::cli {
namespace {

constexpr char kHeader[] =
    "time,client_ip,resource_id,request_type,bytes_in,bytes_out,latency_ms\n";

TEST(AccessCsvTest, ReadsEveryRowAndNamesTheFirstBadOne) {
  absl::StatusOr<std::vector<ImportedAccess>> rows =
      ParseAccessCsv(absl::StrCat(kHeader, "2026-11-29T12:00:00Z,192.0.2.7,r-1,GET,120,4096,12.5\n",
                                  "2026-11-29T12:30:00.5Z,2001:db8::1,r-1,PUT,5000,80,\n"));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].time, absl::FromUnixSeconds(1795953600));
  EXPECT_EQ((*rows)[0].bytes_out, 4096);
  EXPECT_DOUBLE_EQ(*(*rows)[0].latency_ms, 12.5);
  EXPECT_FALSE((*rows)[1].latency_ms.has_value());
  EXPECT_EQ((*rows)[1].time, absl::FromUnixMillis(1795955400500));
  for (const auto& [text, says] : std::vector<std::pair<std::string, std::string>>{
           {"", "empty"},
           {"time,ip\n", "line 1"},
           {absl::StrCat(kHeader, "yesterday,1.2.3.4,r,GET,1,1,1\n"), "line 2: time"},
           {absl::StrCat(kHeader, "2026-11-29T12:00:00Z,1.2.3.4,r,GET,-1,1,1\n"), "bytes_in"},
           {absl::StrCat(kHeader, "2026-11-29T12:00:00Z,1.2.3.4,r,GET,1,1,nan\n"), "latency_ms"},
           {absl::StrCat(kHeader, "2026-11-29T12:00:00Z,1.2.3.4,r,GET,1,1\n"), "7 columns"},
           {absl::StrCat(kHeader, "2026-11-29T12:00:00Z,1.2.3.4,r,GET,1,1,1\n",
                         "2026-11-29T12:00:00Z,,r,GET,1,1,1\n"),
            "line 3: client_ip"},
       }) {
    absl::StatusOr<std::vector<ImportedAccess>> bad = ParseAccessCsv(text);
    ASSERT_FALSE(bad.ok()) << says;
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(bad.status().message(), says)) << bad.status();
  }
}

}  // namespace
}  // namespace shadowplane::cli
