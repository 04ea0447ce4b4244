#include "store/access_log_store.h"

#include <algorithm>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_macros.h"
#include "store/copy_binary.h"
#include "store/copy_text.h"
#include "store/location_repository.h"
#include "store/sql_array.h"
#include "store/sql_time.h"

namespace shadowplane::store {

// Many COPY rows sent as one piece. libpqxx 6.4's stream_to formats each row of a tuple field by
// field (a string per field, then an escaped copy, then the joined line); the rows here are
// formatted by copy_text.h into large blocks instead, and this escaper passes such a block through
// as it is (stream_to adds the final newline).
struct CopyBlock {
  std::string text;
};

}  // namespace shadowplane::store

namespace pqxx::internal {
template <>
inline std::string TypedCopyEscaper::operator()<shadowplane::store::CopyBlock>(
    const shadowplane::store::CopyBlock* block) const {
  return block->text;
}
}  // namespace pqxx::internal

namespace shadowplane::store {

namespace {

constexpr size_t kCopyBlockBytes = 1 << 20;
constexpr char kPartitionPrefix[] = "client_access_log_p";

// Sends `lines` (each ending in '\n') to `stream` in blocks of about kCopyBlockBytes.
class BlockWriter {
 public:
  explicit BlockWriter(pqxx::stream_to& stream) : stream_(stream) {
    block_.text.reserve(kCopyBlockBytes + 4096);
  }
  std::string* buffer() { return &block_.text; }
  void EndLine() {
    if (block_.text.size() >= kCopyBlockBytes) Flush();
  }
  void Flush() {
    if (block_.text.empty()) return;
    block_.text.pop_back();  // stream_to adds the last newline itself
    stream_ << std::make_tuple(block_);
    block_.text.clear();
  }

 private:
  pqxx::stream_to& stream_;
  CopyBlock block_;
};

// One COPY line in text format, field by field: separators, NULLs and escaping in one place.
class CopyLine {
 public:
  explicit CopyLine(std::string* out) : out_(out) {}
  CopyLine& Text(absl::string_view v) {
    Next();
    AppendCopyText(v, out_);
    return *this;
  }
  // Empty text is NULL.
  CopyLine& TextOrNull(absl::string_view v) {
    Next();
    v.empty() ? AppendCopyNull(out_) : AppendCopyText(v, out_);
    return *this;
  }
  CopyLine& Uuid(absl::string_view v) { return Text(v); }
  CopyLine& UuidOrNull(absl::string_view v) { return TextOrNull(v); }
  CopyLine& Inet(absl::string_view v) { return Text(v); }
  CopyLine& Int(int64_t v) {
    Next();
    AppendCopyInt(v, out_);
    return *this;
  }
  CopyLine& Double(double v) {
    Next();
    AppendCopyDouble(v, out_);
    return *this;
  }
  CopyLine& DoubleOrNull(const std::optional<double>& v) {
    Next();
    v.has_value() ? AppendCopyDouble(*v, out_) : AppendCopyNull(out_);
    return *this;
  }
  CopyLine& Time(absl::Time v) {
    Next();
    AppendCopyTime(v, out_);
    return *this;
  }
  void End() { out_->push_back('\n'); }

 private:
  void Next() {
    if (!first_) out_->push_back('\t');
    first_ = false;
  }
  std::string* const out_;
  bool first_ = true;
};

// The same fields in binary format (copy_binary.h).
class BinaryLine {
 public:
  explicit BinaryLine(std::string* out) : out_(out) {}
  BinaryLine& Text(absl::string_view v) {
    AppendBinaryText(v, out_);
    return *this;
  }
  BinaryLine& TextOrNull(absl::string_view v) {
    v.empty() ? AppendBinaryNull(out_) : AppendBinaryText(v, out_);
    return *this;
  }
  BinaryLine& Uuid(absl::string_view v) {
    AppendBinaryUuid(v, out_);
    return *this;
  }
  BinaryLine& UuidOrNull(absl::string_view v) {
    v.empty() ? AppendBinaryNull(out_) : AppendBinaryUuid(v, out_);
    return *this;
  }
  BinaryLine& Inet(absl::string_view v) {
    AppendBinaryInet(v, out_);
    return *this;
  }
  BinaryLine& Int(int64_t v) {
    AppendBinaryInt64(v, out_);
    return *this;
  }
  BinaryLine& Double(double v) {
    AppendBinaryFloat64(v, out_);
    return *this;
  }
  BinaryLine& DoubleOrNull(const std::optional<double>& v) {
    v.has_value() ? AppendBinaryFloat64(*v, out_) : AppendBinaryNull(out_);
    return *this;
  }
  BinaryLine& Time(absl::Time v) {
    AppendBinaryTime(v, out_);
    return *this;
  }
  void End() {}

 private:
  std::string* const out_;
};

// COPYs `rows` into `table` in `format`; `line(row, Line&)` writes a row's fields in `columns`
// order, through CopyLine or BinaryLine.
template <typename Row, typename Fn>
void CopyRows(pqxx::work& txn, CopyFormat format, const std::string& table,
              const std::vector<std::string>& columns, const std::vector<const Row*>& rows,
              Fn line) {
  if (format == CopyFormat::kBinary) {
    BinaryCopy copy(txn, table, columns);
    for (const Row* r : rows) {
      BinaryLine fields(copy.BeginRow());
      line(*r, fields);
    }
    copy.Complete();
    return;
  }
  pqxx::stream_to stream(txn, table, columns);
  BlockWriter writer(stream);
  for (const Row* r : rows) {
    CopyLine copy(writer.buffer());
    line(*r, copy);
    copy.End();
    writer.EndLine();
  }
  writer.Flush();
  stream.complete();
}

void CopyAccess(pqxx::work& txn, CopyFormat format, const std::vector<const AccessRow*>& rows) {
  CopyRows(txn, format, "client_access_log",
           {"ts", "client_ip", "resource_id", "instance_id", "request_type", "cpu_millis",
            "memory_bytes", "bytes_in", "bytes_out", "latency_ms", "origin_region", "client_id"},
           rows, [](const AccessRow& r, auto& line) {
             line.Time(r.ts)
                 .Inet(r.client_ip)
                 .Uuid(r.resource_id)
                 .UuidOrNull(r.instance_id)
                 .Text(r.request_type)
                 .Double(r.cpu_millis)
                 .Int(r.memory_bytes)
                 .Int(r.bytes_in)
                 .Int(r.bytes_out)
                 .DoubleOrNull(r.latency_ms)
                 .Text(r.origin_region)
                 .TextOrNull(r.client_id);
           });
}

void CopyUtilization(pqxx::work& txn, CopyFormat format,
                     const std::vector<const UtilizationRow*>& rows) {
  CopyRows(txn, format, "instance_utilization",
           {"ts", "instance_id", "resource_id", "interval_seconds", "cpu_seconds", "memory_bytes",
            "net_bytes_in", "net_bytes_out"},
           rows, [](const UtilizationRow& r, auto& line) {
             line.Time(r.ts)
                 .Uuid(r.instance_id)
                 .Uuid(r.resource_id)
                 .Double(r.interval_seconds)
                 .Double(r.cpu_seconds)
                 .Int(r.memory_bytes)
                 .Int(r.net_bytes_in)
                 .Int(r.net_bytes_out);
           });
}

constexpr char kDemandColumns[] =
    "resource_id, origin_region, hour, requests, bytes_in, bytes_out, cpu_millis, memory_bytes, "
    "latency_ms_sum, latency_count, clients_hll";
constexpr char kDemandRows[] =
    "unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::bigint[], $5::bigint[], $6::bigint[], "
    "$7::float8[], $8::float8[], $9::float8[], $10::bigint[], $11::bytea[]) AS v(resource_id, "
    "origin_region, hour, requests, bytes_in, bytes_out, cpu_millis, memory_bytes, "
    "latency_ms_sum, latency_count, clients_hll)";

// Runs `sql` (whose $1..$11 are kDemandRows' arrays) over `deltas` with `sketches`.
pqxx::result ExecDemand(pqxx::work& txn, const std::string& sql,
                        const std::vector<const DemandDelta*>& deltas,
                        const std::vector<std::string>& sketches) {
  SqlArray r, o, h, req, in, out, cpu, mem, lat, latn, hll;
  for (size_t i = 0; i < deltas.size(); ++i) {
    const DemandDelta& d = *deltas[i];
    r.AddText(d.resource_id);
    o.AddText(d.origin_region);
    h.AddTime(d.hour);
    req.AddInt(d.sums.requests);
    in.AddInt(d.sums.bytes_in);
    out.AddInt(d.sums.bytes_out);
    cpu.AddDouble(d.sums.cpu_millis);
    mem.AddDouble(d.sums.memory_bytes);
    lat.AddDouble(d.sums.latency_ms_sum);
    latn.AddInt(d.sums.latency_count);
    hll.AddBytes(sketches[i]);
  }
  return txn.exec_params(sql, r.Take(), o.Take(), h.Take(), req.Take(), in.Take(), out.Take(),
                         cpu.Take(), mem.Take(), lat.Take(), latn.Take(), hll.Take());
}

// Adds `deltas` to demand_hourly. The cells that exist are locked (in key order, so that two
// writers never wait for each other in a cycle) and read with their sketches in binary; the others
// are inserted whole (a cell another writer inserted meanwhile is read again). The existing cells'
// sketches are merged here, and their new sums and sketches go back through a binary COPY to a
// staging table and one UPDATE: sketches (4 KiB each when dense) never travel as hex text.
absl::Status MergeDemand(pqxx::work& txn, std::vector<DemandDelta>& deltas,
                         const CommitOptions& options) {
  std::sort(deltas.begin(), deltas.end(), [](const DemandDelta& a, const DemandDelta& b) {
    return std::tie(a.resource_id, a.origin_region, a.hour) <
           std::tie(b.resource_id, b.origin_region, b.hour);
  });
  std::vector<const DemandDelta*> pending;
  for (const DemandDelta& d : deltas) pending.push_back(&d);
  std::vector<const DemandDelta*> existing;
  std::vector<std::string> merged;
  for (int pass = 0; !pending.empty(); ++pass) {
    if (pass == 3) return absl::AbortedError("demand_hourly cells kept appearing while merged");
    SqlArray keys_r, keys_o, keys_h;
    for (const DemandDelta* d : pending) {
      keys_r.AddText(d->resource_id);
      keys_o.AddText(d->origin_region);
      keys_h.AddTime(d->hour);
    }
    const BinaryResult stored(
        txn,
        "SELECT k.i, d.clients_hll FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) WITH "
        "ORDINALITY AS k(r, o, h, i) JOIN demand_hourly d ON d.resource_id = k.r AND "
        "d.origin_region = k.o AND d.hour = k.h ORDER BY k.i FOR UPDATE OF d",
        {keys_r.Take(), keys_o.Take(), keys_h.Take()});
    std::vector<bool> found(pending.size(), false);
    for (int row = 0; row < stored.rows(); ++row) {
      const int64_t i = stored.Int64(row, 0) - 1;
      if (i < 0 || i >= static_cast<int64_t>(pending.size()) || found[i]) {
        return absl::InternalError("demand_hourly answered for a cell it was not asked for");
      }
      found[i] = true;
      ASSIGN_OR_RETURN(std::string sketch, options.merge_sketches(std::string(stored.Bytes(row, 1)),
                                                                  pending[i]->clients_sketch));
      existing.push_back(pending[i]);
      merged.push_back(std::move(sketch));
    }
    std::vector<const DemandDelta*> fresh;
    std::vector<std::string> sketches;
    for (size_t i = 0; i < pending.size(); ++i) {
      if (found[i]) continue;
      fresh.push_back(pending[i]);
      sketches.push_back(pending[i]->clients_sketch);
    }
    pending.clear();
    if (fresh.empty()) break;
    const pqxx::result inserted = ExecDemand(
        txn,
        absl::StrCat("INSERT INTO demand_hourly (", kDemandColumns, ") SELECT * FROM ", kDemandRows,
                     " ON CONFLICT (resource_id, origin_region, hour) DO NOTHING "
                     "RETURNING resource_id::text, origin_region, " SP_SQL_UTC("hour")),
        fresh, sketches);
    std::set<std::tuple<std::string, std::string, absl::Time>> stored_now;
    for (const auto& row : inserted) {
      stored_now.emplace(row[0].as<std::string>(), row[1].as<std::string>(),
                         FromSqlTime(row[2].as<std::string>()));
    }
    for (const DemandDelta* d : fresh) {
      if (stored_now.count({d->resource_id, d->origin_region, d->hour}) == 0) pending.push_back(d);
    }
  }
  if (existing.empty()) return absl::OkStatus();
  EnsureStagingTable(txn, "demand_hourly_staging",
                     "resource_id uuid, origin_region text, hour timestamptz, requests bigint, "
                     "bytes_in bigint, bytes_out bigint, cpu_millis float8, memory_bytes float8, "
                     "latency_ms_sum float8, latency_count bigint, clients_hll bytea");
  BinaryCopy copy(txn, "demand_hourly_staging",
                  {"resource_id", "origin_region", "hour", "requests", "bytes_in", "bytes_out",
                   "cpu_millis", "memory_bytes", "latency_ms_sum", "latency_count", "clients_hll"});
  for (size_t i = 0; i < existing.size(); ++i) {
    const DemandDelta& d = *existing[i];
    std::string* out = copy.BeginRow();
    AppendBinaryUuid(d.resource_id, out);
    AppendBinaryText(d.origin_region, out);
    AppendBinaryTime(d.hour, out);
    AppendBinaryInt64(d.sums.requests, out);
    AppendBinaryInt64(d.sums.bytes_in, out);
    AppendBinaryInt64(d.sums.bytes_out, out);
    AppendBinaryFloat64(d.sums.cpu_millis, out);
    AppendBinaryFloat64(d.sums.memory_bytes, out);
    AppendBinaryFloat64(d.sums.latency_ms_sum, out);
    AppendBinaryInt64(d.sums.latency_count, out);
    AppendBinaryText(merged[i], out);  // bytea's binary form is its bytes
  }
  copy.Complete();
  txn.exec(absl::StrCat(
      "UPDATE demand_hourly d SET requests = ", SaturatingAddSql("d.requests", "v.requests"),
      ", bytes_in = ", SaturatingAddSql("d.bytes_in", "v.bytes_in"),
      ", bytes_out = ", SaturatingAddSql("d.bytes_out", "v.bytes_out"),
      ", cpu_millis = d.cpu_millis + v.cpu_millis, "
      "memory_bytes = d.memory_bytes + v.memory_bytes, "
      "latency_ms_sum = d.latency_ms_sum + v.latency_ms_sum, latency_count = ",
      SaturatingAddSql("d.latency_count", "v.latency_count"),
      ", clients_hll = v.clients_hll FROM demand_hourly_staging v WHERE d.resource_id = "
      "v.resource_id AND d.origin_region = v.origin_region AND d.hour = v.hour"));
  return absl::OkStatus();
}

std::string RejectionsJson(const std::vector<RejectionCount>& rejections) {
  std::string json = "[";
  for (size_t i = 0; i < rejections.size(); ++i) {
    const RejectionCount& r = rejections[i];
    absl::StrAppend(&json, i == 0 ? "" : ",", "{\"reason\":\"", r.reason, "\",\"count\":", r.count,
                    ",\"events\":[", absl::StrJoin(r.first_events, ","), "],\"samples\":[",
                    absl::StrJoin(r.first_samples, ","), "]}");
  }
  return json + "]";
}

std::vector<int> IntList(const pqxx::field& f) {
  std::vector<int> out;
  if (f.is_null()) return out;
  for (absl::string_view piece : absl::StrSplit(f.c_str(), ',', absl::SkipEmpty())) {
    int v;
    if (absl::SimpleAtoi(piece, &v)) out.push_back(v);
  }
  return out;
}

}  // namespace

std::string AccessLogPartitionName(absl::CivilDay day) {
  return absl::StrCat(kPartitionPrefix,
                      absl::StrReplaceAll(absl::FormatCivilTime(day), {{"-", ""}}));
}

absl::StatusOr<GroupResult> AccessLogStore::CommitGroup(
    absl::Time now, const std::vector<GroupBatch>& batches,
    const std::function<GroupRows(const std::vector<bool>& is_new)>& rows) {
  if (batches.empty()) return GroupResult{};
  return pool_->Run(
      "committing telemetry batches", [&](pqxx::connection& conn) -> absl::StatusOr<GroupResult> {
        absl::Time mark = absl::Now();
        auto lap = [&mark] {
          const absl::Time now = absl::Now();
          const absl::Duration d = now - mark;
          mark = now;
          return d;
        };
        pqxx::work txn(conn);
        std::string values;
        std::map<std::string, size_t> index;
        for (size_t i = 0; i < batches.size(); ++i) {
          const GroupBatch& b = batches[i];
          index[b.batch_id] = i;
          absl::StrAppend(&values, i == 0 ? "" : ", ", "(", txn.quote(b.batch_id), ", ",
                          txn.quote(ToSqlTime(now)), "::timestamptz, ", b.counts.events_accepted,
                          ", ", b.counts.events_demand_only, ", ", b.counts.samples_accepted, ", ",
                          txn.quote(RejectionsJson(b.counts.rejections)), "::jsonb)");
        }
        const pqxx::result inserted = txn.exec(
            absl::StrCat("INSERT INTO ingest_batches (batch_id, committed_at, events_accepted, "
                         "events_demand_only, samples_accepted, rejections) VALUES ",
                         values, " ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id"));
        GroupResult result;
        result.duplicate.assign(batches.size(), true);
        result.counts.resize(batches.size());
        for (const auto& row : inserted) {
          const size_t i = index.at(row[0].as<std::string>());
          result.duplicate[i] = false;
          result.counts[i] = batches[i].counts;
        }
        if (inserted.size() < batches.size()) {
          std::string ids;
          for (size_t i = 0; i < batches.size(); ++i) {
            if (!result.duplicate[i]) continue;
            absl::StrAppend(&ids, ids.empty() ? "" : ", ", txn.quote(batches[i].batch_id));
          }
          const pqxx::result stored = txn.exec(absl::StrCat(
              "SELECT b.batch_id, b.events_accepted, b.events_demand_only, b.samples_accepted, "
              "r.reason, r.count, array_to_string(r.events, ','), "
              "array_to_string(r.samples, ',') FROM ingest_batches b LEFT JOIN LATERAL "
              "jsonb_to_recordset(b.rejections) AS r(reason text, count bigint, events int[], "
              "samples int[]) ON true WHERE b.batch_id IN (",
              ids, ")"));
          for (const auto& row : stored) {
            BatchCounts& c = result.counts[index.at(row[0].as<std::string>())];
            c.events_accepted = row[1].as<int64_t>();
            c.events_demand_only = row[2].as<int64_t>();
            c.samples_accepted = row[3].as<int64_t>();
            if (row[4].is_null()) continue;
            c.rejections.push_back(
                {row[4].as<std::string>(), row[5].as<int64_t>(), IntList(row[6]), IntList(row[7])});
          }
        }
        std::vector<bool> is_new(batches.size());
        for (size_t i = 0; i < batches.size(); ++i) is_new[i] = !result.duplicate[i];
        result.dedup_time = lap();
        GroupRows group = rows(is_new);
        result.rows_time = lap();
        if (!group.access.empty()) CopyAccess(txn, options_.copy_format, group.access);
        if (!group.utilization.empty()) {
          CopyUtilization(txn, options_.copy_format, group.utilization);
        }
        result.copy_time = lap();
        if (!group.demand.empty()) RETURN_IF_ERROR(MergeDemand(txn, group.demand, options_));
        result.demand_time = lap();
        txn.commit();
        result.commit_time = lap();
        return result;
      });
}

absl::Status AccessLogStore::EnsurePartitions(const std::vector<absl::CivilDay>& days) {
  return pool_->Run("creating access log partitions", [&](pqxx::connection& conn) -> absl::Status {
    for (const absl::CivilDay day : days) {
      const std::string name = AccessLogPartitionName(day);
      pqxx::nontransaction txn(conn);
      const bool exists = !txn.exec_params("SELECT to_regclass($1) IS NULL", name)[0][0].as<bool>();
      if (exists) continue;
      try {
        txn.exec(absl::StrCat("CREATE TABLE IF NOT EXISTS ", name,
                              " PARTITION OF client_access_log FOR VALUES FROM ('",
                              absl::FormatCivilTime(day), " 00:00:00+00') TO ('",
                              absl::FormatCivilTime(day + 1), " 00:00:00+00')"));
      } catch (const pqxx::sql_error& e) {
        // Another replica created it at the same moment: fine if it exists now.
        pqxx::nontransaction check(conn);
        if (check.exec_params("SELECT to_regclass($1) IS NULL", name)[0][0].as<bool>()) throw;
      }
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<absl::CivilDay>> AccessLogStore::ListPartitions() {
  return pool_->Run(
      "listing access log partitions",
      [&](pqxx::connection& conn) -> absl::StatusOr<std::vector<absl::CivilDay>> {
        pqxx::nontransaction txn(conn);
        const pqxx::result rows = txn.exec(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'client_access_log'::regclass ORDER BY c.relname");
        std::vector<absl::CivilDay> days;
        for (const auto& row : rows) {
          const std::string name = row[0].as<std::string>();
          if (name.rfind(kPartitionPrefix, 0) != 0) continue;
          const std::string digits = name.substr(sizeof(kPartitionPrefix) - 1);
          absl::CivilDay day;
          if (digits.size() != 8 ||
              !absl::ParseCivilTime(absl::StrCat(digits.substr(0, 4), "-", digits.substr(4, 2), "-",
                                                 digits.substr(6, 2)),
                                    &day)) {
            continue;
          }
          days.push_back(day);
        }
        return days;
      });
}

absl::StatusOr<int> AccessLogStore::DropPartitionsBefore(absl::CivilDay first_kept) {
  ASSIGN_OR_RETURN(std::vector<absl::CivilDay> days, ListPartitions());
  return pool_->Run(
      "dropping access log partitions", [&](pqxx::connection& conn) -> absl::StatusOr<int> {
        int dropped = 0;
        for (const absl::CivilDay day : days) {
          if (day >= first_kept) break;
          pqxx::nontransaction txn(conn);
          txn.exec(absl::StrCat("DROP TABLE IF EXISTS ", AccessLogPartitionName(day)));
          ++dropped;
        }
        return dropped;
      });
}

absl::StatusOr<AccessLogStore::Pruned> AccessLogStore::Prune(absl::Time demand_cutoff,
                                                             absl::Time raw_cutoff,
                                                             absl::Time batch_cutoff) {
  return pool_->Run("pruning telemetry", [&](pqxx::connection& conn) -> absl::StatusOr<Pruned> {
    Pruned pruned;
    pqxx::nontransaction txn(conn);
    pruned.demand_rows = txn.exec_params("DELETE FROM demand_hourly WHERE hour < $1::timestamptz",
                                         ToSqlTime(demand_cutoff))
                             .affected_rows();
    pruned.utilization_rows =
        txn.exec_params("DELETE FROM instance_utilization WHERE ts < $1::timestamptz",
                        ToSqlTime(raw_cutoff))
            .affected_rows();
    pruned.affinity_rows =
        txn.exec_params("DELETE FROM client_affinity WHERE last_seen < $1::timestamptz",
                        ToSqlTime(raw_cutoff))
            .affected_rows();
    pruned.batch_ids =
        txn.exec_params("DELETE FROM ingest_batches WHERE committed_at < $1::timestamptz",
                        ToSqlTime(batch_cutoff))
            .affected_rows();
    return pruned;
  });
}

}  // namespace shadowplane::store
