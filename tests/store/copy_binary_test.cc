// Telemetry COPY in binary format (store/copy_binary.h) against the text format it replaced, on a
// real PostgreSQL: the same rows stored both ways read back identical, column by column (every
// type the ingest path writes, NULLs, IPv4 and IPv6, extreme values, escapes, times before 2000
// and with microseconds); values that are not of their type are refused before anything is sent;
// a row the server refuses fails the whole group with the right status, and the connection works
// on.
#include "store/copy_binary.h"

#include <cmath>
#include <limits>
#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "store/access_log_store.h"
#include "support/test_database.h"

namespace shadowplane::store {
namespace {

constexpr char kResource[] = "4f1c2a9e-0b7d-4e21-9c3a-5d6e7f809a1b";
constexpr char kInstance[] = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11";  // upper case too

absl::Time At(const char* rfc3339) {
  absl::Time t;
  std::string err;
  EXPECT_TRUE(absl::ParseTime(absl::RFC3339_full, rfc3339, &t, &err)) << err;
  return t;
}

std::vector<AccessRow> AccessRows() {
  std::vector<AccessRow> rows;
  auto add = [&rows](const char* ts, const char* ip) -> AccessRow& {
    AccessRow r;
    r.ts = At(ts);
    r.client_ip = ip;
    r.resource_id = kResource;
    r.request_type = "GET";
    r.origin_region = "eu-central";
    rows.push_back(r);
    return rows.back();
  };
  add("2026-12-08T10:00:00Z", "192.0.2.1");
  AccessRow& v6 = add("2026-12-08T10:00:00.000001Z", "2001:db8::1");
  v6.instance_id = kInstance;
  v6.latency_ms = 12.5;
  v6.client_id = "client-\u00e9\u4e2d";  // UTF-8
  AccessRow& extreme =
      add("2026-12-08T23:59:59.999999Z", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  extreme.cpu_millis = std::numeric_limits<double>::max();
  extreme.memory_bytes = std::numeric_limits<int64_t>::max();
  extreme.bytes_in = std::numeric_limits<int64_t>::max();
  extreme.bytes_out = 0;
  extreme.latency_ms = std::numeric_limits<double>::denorm_min();
  AccessRow& escapes = add("2026-12-08T12:34:56.789012Z", "::ffff:198.51.100.7");
  escapes.request_type = "tab\there\nnewline\\backslash\rreturn";
  escapes.client_id = "\\N";  // text that looks like text COPY's NULL
  escapes.cpu_millis = 0.1 + 0.2;
  escapes.latency_ms = 0;
  AccessRow& low = add("1999-12-31T23:59:59.5Z", "0.0.0.0");  // before PostgreSQL's epoch
  low.cpu_millis = 1e-300;
  low.memory_bytes = 1;
  AccessRow& old = add("1970-01-01T00:00:00Z", "::");
  old.instance_id = kInstance;
  old.cpu_millis = 123456789.123456789;
  return rows;
}

std::vector<UtilizationRow> UtilizationRows() {
  UtilizationRow a;
  a.ts = At("2026-12-08T10:00:00.25Z");
  a.instance_id = kInstance;
  a.resource_id = kResource;
  a.interval_seconds = 10;
  a.cpu_seconds = 3.3333333333333335;
  a.memory_bytes = std::numeric_limits<int64_t>::max();
  a.net_bytes_in = 1;
  a.net_bytes_out = 0;
  UtilizationRow b = a;
  b.ts = At("1999-12-31T23:59:59.999999Z");
  b.interval_seconds = std::numeric_limits<double>::min();
  b.cpu_seconds = 0;
  return {a, b};
}

class CopyBinaryTest : public testing::MigratedDatabaseTest {
 protected:
  void SetUp() override {
    MigratedDatabaseTest::SetUp();
    AccessLogStore store(pool_.get(), Options(CopyFormat::kText));
    ASSERT_TRUE(store
                    .EnsurePartitions({absl::CivilDay(1970, 1, 1), absl::CivilDay(1999, 12, 31),
                                       absl::CivilDay(2026, 12, 8)})
                    .ok());
  }
  static CommitOptions Options(CopyFormat format) {
    CommitOptions o;
    o.copy_format = format;
    o.merge_sketches = [](const std::string& a, const std::string&) { return a; };
    return o;
  }
  // Stores `access` and `utilization` as one new batch, in `format`.
  absl::Status Store(CopyFormat format, const std::vector<AccessRow>& access,
                     const std::vector<UtilizationRow>& utilization, const std::string& batch) {
    AccessLogStore store(pool_.get(), Options(format));
    GroupBatch b;
    b.batch_id = batch;
    auto result =
        store.CommitGroup(absl::FromUnixSeconds(1796558400), {b}, [&](const std::vector<bool>&) {
          GroupRows rows;
          for (const AccessRow& r : access) rows.access.push_back(&r);
          for (const UtilizationRow& r : utilization) rows.utilization.push_back(&r);
          return rows;
        });
    return result.status();
  }
  // Every stored row, every column as PostgreSQL prints it, in a fixed order.
  std::vector<std::string> Stored() {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    txn.exec("SET TimeZone = 'UTC'");
    std::vector<std::string> out;
    for (const auto& row :
         txn.exec("SELECT ts, client_ip, resource_id, instance_id, request_type, cpu_millis, "
                  "memory_bytes, bytes_in, bytes_out, latency_ms, origin_region, client_id, "
                  "pg_typeof(client_ip)::text, family(client_ip), masklen(client_ip) "
                  "FROM client_access_log ORDER BY ts, client_ip")) {
      std::vector<std::string> fields;
      for (const auto& f : row) fields.push_back(f.is_null() ? "NULL" : f.c_str());
      out.push_back(absl::StrJoin(fields, "|"));
    }
    for (const auto& row :
         txn.exec("SELECT * FROM instance_utilization ORDER BY ts, cpu_seconds")) {
      std::vector<std::string> fields;
      for (const auto& f : row) fields.push_back(f.is_null() ? "NULL" : f.c_str());
      out.push_back(absl::StrJoin(fields, "|"));
    }
    return out;
  }
  void Truncate() {
    pqxx::connection conn(db_->url());
    pqxx::nontransaction txn(conn);
    txn.exec("TRUNCATE client_access_log, instance_utilization, ingest_batches");
  }
};

TEST_F(CopyBinaryTest, StoresExactlyWhatTextCopyStored) {
  ASSERT_TRUE(Store(CopyFormat::kText, AccessRows(), UtilizationRows(), "text").ok());
  const std::vector<std::string> text = Stored();
  ASSERT_EQ(text.size(), AccessRows().size() + UtilizationRows().size());
  Truncate();
  ASSERT_TRUE(Store(CopyFormat::kBinary, AccessRows(), UtilizationRows(), "binary").ok());
  const std::vector<std::string> binary = Stored();
  EXPECT_EQ(binary, text);
  // And what was meant, spelled out for a few fields.
  const std::string all = absl::StrJoin(binary, "\n");
  EXPECT_NE(all.find("|9223372036854775807|9223372036854775807|0|"), std::string::npos) << all;
  EXPECT_NE(all.find("1999-12-31 23:59:59.5+00|0.0.0.0|"), std::string::npos) << all;
  EXPECT_NE(all.find("|::ffff:198.51.100.7|"), std::string::npos) << all;
  EXPECT_NE(all.find("|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|"), std::string::npos) << all;
  EXPECT_NE(all.find("|tab\there\nnewline\\backslash\rreturn|"), std::string::npos) << all;
  EXPECT_NE(all.find("|\\N|inet|6|128"), std::string::npos) << "text, not NULL: " << all;
}

TEST_F(CopyBinaryTest, ManyRowsAcrossSendBlocks) {
  std::vector<AccessRow> rows;
  for (int i = 0; i < 20000; ++i) {
    AccessRow r;
    r.ts = At("2026-12-08T00:00:00Z") + absl::Milliseconds(i);
    r.client_ip = absl::StrCat("10.", i / 65536, ".", i / 256 % 256, ".", i % 256);
    r.resource_id = kResource;
    r.request_type = std::string(100, 'x');  // 20,000 rows of ~200 bytes: several 1 MiB blocks
    r.origin_region = "eu";
    r.cpu_millis = i;
    rows.push_back(r);
  }
  ASSERT_TRUE(Store(CopyFormat::kText, rows, {}, "text").ok());
  const std::vector<std::string> text = Stored();
  Truncate();
  ASSERT_TRUE(Store(CopyFormat::kBinary, rows, {}, "binary").ok());
  EXPECT_EQ(Stored(), text);
  EXPECT_EQ(text.size(), 20000u);
}

TEST_F(CopyBinaryTest, ValuesNotOfTheirTypeAreRefusedBeforeAnythingIsSent) {
  std::string out;
  for (const char* bad :
       {"", "not-a-uuid", "4f1c2a9e0b7d4e219c3a5d6e7f809a1b",
        "4f1c2a9e-0b7d-4e21-9c3a-5d6e7f809a1g", "{4f1c2a9e-0b7d-4e21-9c3a-5d6e7f809a1}",
        "4f1c2a9e-0b7d-4e21-9c3a-5d6e7f809a1b0"}) {
    EXPECT_THROW(AppendBinaryUuid(bad, &out), pqxx::data_exception) << bad;
  }
  const std::string long_text(100, '1');
  for (const char* bad : {"", "1.2.3", "1.2.3.4/24", "256.1.1.1", "::1::", "fe80::1%eth0",
                          "1.2.3.4 ", long_text.c_str()}) {
    EXPECT_THROW(AppendBinaryInet(bad, &out), pqxx::data_exception) << bad;
  }
  EXPECT_TRUE(out.empty()) << "nothing half-written";

  std::vector<AccessRow> rows = AccessRows();
  rows[3].client_ip = "not an address";
  const absl::Status status = Store(CopyFormat::kBinary, rows, {}, "bad-ip");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("not an IP address"), std::string::npos) << status;
  EXPECT_TRUE(Stored().empty()) << "the whole group is refused";
  ASSERT_TRUE(Store(CopyFormat::kBinary, AccessRows(), {}, "bad-ip").ok())
      << "the batch id was not recorded, and the connection works on";
  EXPECT_EQ(Stored().size(), AccessRows().size());
}

TEST_F(CopyBinaryTest, ARowTheServerRefusesFailsTheGroupWithItsStatus) {
  for (CopyFormat format : {CopyFormat::kText, CopyFormat::kBinary}) {
    std::vector<AccessRow> rows = AccessRows();
    rows.back().bytes_in = -1;  // CHECK (bytes_in >= 0)
    const absl::Status status = Store(format, rows, {}, "negative");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    std::vector<AccessRow> missing_partition = AccessRows();
    missing_partition[0].ts = At("2031-01-01T00:00:00Z");
    EXPECT_FALSE(Store(format, missing_partition, {}, "no-partition").ok());
    EXPECT_TRUE(Stored().empty());
  }
  // The pool's connections are usable after both refusals.
  ASSERT_TRUE(Store(CopyFormat::kBinary, AccessRows(), UtilizationRows(), "fine").ok());
  EXPECT_EQ(Stored().size(), AccessRows().size() + UtilizationRows().size());
}

TEST_F(CopyBinaryTest, BinaryResultsCarryBytesAndBigintsAndFailuresThrowWithTheirState) {
  pqxx::connection conn(db_->url());
  pqxx::work txn(conn);
  const BinaryResult r(txn, "SELECT $1::bigint, decode($2, 'hex'), NULL::bytea",
                       {"-9223372036854775808", "00ff10"});
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.Int64(0, 0), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(r.Bytes(0, 1), absl::string_view("\0\xff\x10", 3)) << "raw bytes, not hex text";
  EXPECT_TRUE(r.IsNull(0, 2));
  EXPECT_FALSE(r.IsNull(0, 1));
  EXPECT_THROW(r.Int64(0, 1), pqxx::data_exception) << "three bytes are no bigint";
  try {
    BinaryResult failed(txn, "SELECT 1 / $1::int", {"0"});
    ADD_FAILURE() << "no exception";
  } catch (const pqxx::sql_error& e) {
    EXPECT_EQ(e.sqlstate(), "22012") << e.what();  // division_by_zero
  }
}

}  // namespace
}  // namespace shadowplane::store
