// shadowctl loadgen: a regional workload on one machine (cli/load_plan.h, cli/load_runner.h), and
// the back-fill of a trace's past weeks as access events; shadowctl accesses import: existing
// access logs (cli/access_csv.h). Both back-fill and import take the path of any importer:
// RecordAccessBatch with past timestamps and batch ids that make a re-run store nothing twice.
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/access_csv.h"
#include "cli/command.h"
#include "cli/dns_target.h"
#include "cli/load_plan.h"
#include "cli/load_runner.h"
#include "cli/shadowctl.h"
#include "cli/table.h"
#include "common/file_util.h"
#include "common/loopback.h"
#include "common/proto_time.h"
#include "common/stable_hash.h"

namespace shadowplane::cli {
namespace {

constexpr size_t kBackfillBatchEvents = 1000;

class LoadgenCommands : public CommandContext {
 public:
  explicit LoadgenCommands(const CommandContext& context) : CommandContext(context) {}

  int Loadgen() {
    absl::StatusOr<LoadTrace> trace = ReadLoadTrace(options_.trace);
    if (!trace.ok()) return Bad(trace.status());
    absl::StatusOr<std::map<std::string, std::string>> networks =
        ReadRegionNetworks(options_.locations_file);
    if (!networks.ok()) return Bad(networks.status());
    if (options_.backfill_weeks > 0) return Backfill(*trace, *networks);
    LoadRunOptions run;
    std::unique_ptr<DnsTarget> dns;
    std::string target_text;
    if (!options_.dns_server.empty()) {
      // DNS then HTTP: the service name as a client with a DNS cache resolves it.
      absl::StatusOr<std::unique_ptr<DnsTarget>> made =
          DnsTarget::Create(options_.dns_server, options_.service_name, absl::Seconds(2));
      if (!made.ok()) {
        err_ << "shadowctl: " << made.status().message() << "\n";
        return kExitUsage;
      }
      if (options_.service_port < 1 || options_.service_port > 65535) {
        err_ << "shadowctl: --service_port (1-65535) is required with --dns_server\n";
        return kExitUsage;
      }
      dns = *std::move(made);
      absl::StatusOr<std::string> first = dns->Resolve();
      if (!first.ok()) {
        err_ << "shadowctl: " << first.status().message() << "\n";
        return kExitRpcError;
      }
      run.resolve = [target = dns.get()] { return target->Resolve(); };
      run.port = options_.service_port;
      target_text = absl::StrCat(options_.service_name, " (", options_.dns_server, ", now ", *first,
                                 "):", run.port);
    } else {
      const std::vector<std::string> endpoint = absl::StrSplit(options_.endpoint, ':');
      if (endpoint.size() != 2 || !absl::SimpleAtoi(endpoint[1], &run.port)) {
        err_ << "shadowctl: --endpoint must be host:port of the traffic layer (e.g. the HAProxy "
                "frontend, 127.0.0.1:8080)\n";
        return kExitUsage;
      }
      run.host = endpoint[0];
      if (!IsLoopbackHost(run.host)) {
        err_ << "shadowctl: --endpoint " << options_.endpoint
             << " is refused: the load generator sends only to loopback\n";
        return kExitUsage;
      }
      target_text = options_.endpoint;
    }
    run.concurrency = options_.concurrency;
    run.max_time = absl::Seconds(options_.max_seconds);
    absl::StatusOr<LoadPlan> plan = PlanLoad(*trace, *networks, PlanOptions());
    if (!plan.ok()) return Bad(plan.status());
    // With --json the one line of JSON is all of stdout.
    std::ostream& said = options_.json ? err_ : out_;
    said << absl::StrFormat(
        "replaying hours %d-%d of the %s trace (%s) at %.0fx: %d requests over %s, from %s, to "
        "%s\n",
        options_.from_hour, options_.from_hour + options_.hours - 1, options_.trace,
        absl::StrJoin(trace->regions, ", "), options_.time_scale, plan->requests.size(),
        absl::FormatDuration(plan->duration), options_.locations_file, target_text);
    said.flush();
    const bool live = isatty(STDERR_FILENO) != 0;
    std::function<void(const LoadProgress&)> progress;
    if (live) {
      progress = [this](const LoadProgress& p) {
        err_ << absl::StrFormat("\rhour %d  sent %d/%d  answered %d  failed %d   ", p.hour, p.sent,
                                p.planned, p.answered, p.failed);
        err_.flush();
      };
    }
    absl::StatusOr<LoadReport> report = RunLoad(*plan, *trace, run, progress);
    if (live) err_ << "\n";
    if (!report.ok()) return Bad(report.status());
    google::protobuf::Struct json;
    auto& fields = *json.mutable_fields();
    google::protobuf::ListValue* regions = fields["regions"].mutable_list_value();
    Table table({"region", "planned", "sent", "answered", "failed", "served by"});
    int64_t failed = 0, sent = 0, answered = 0;
    for (size_t r = 0; r < trace->regions.size(); ++r) {
      const RegionTally& t = report->regions[r];
      int64_t planned = 0;
      for (int64_t n : plan->per_hour[r]) planned += n;
      std::vector<std::string> served;
      for (const auto& [instance, n] : t.served_by)
        served.push_back(absl::StrCat(instance, ":", n));
      table.AddRow({trace->regions[r], absl::StrCat(planned), absl::StrCat(t.sent),
                    absl::StrCat(t.answered), absl::StrCat(t.failed),
                    served.empty() ? "-" : absl::StrJoin(served, " ")});
      failed += t.failed;
      sent += t.sent;
      answered += t.answered;
      auto& row = *regions->add_values()->mutable_struct_value()->mutable_fields();
      row["region"].set_string_value(trace->regions[r]);
      row["planned"].set_number_value(static_cast<double>(planned));
      row["sent"].set_number_value(static_cast<double>(t.sent));
      row["answered"].set_number_value(static_cast<double>(t.answered));
      row["failed"].set_number_value(static_cast<double>(t.failed));
    }
    fields["sent"].set_number_value(static_cast<double>(sent));
    fields["answered"].set_number_value(static_cast<double>(answered));
    fields["failed"].set_number_value(static_cast<double>(failed));
    fields["not_sent"].set_number_value(static_cast<double>(report->not_sent));
    fields["unresolved"].set_number_value(static_cast<double>(report->unresolved));
    fields["elapsed_seconds"].set_number_value(absl::ToDoubleSeconds(report->elapsed));
    fields["writes"].set_number_value(static_cast<double>(report->writes.size()));
    if (!options_.json) {
      out_ << table.Render();
      out_ << absl::StrFormat(
          "%s elapsed; %d not sent (--max_seconds); %d failed\n",
          absl::FormatDuration(absl::Trunc(report->elapsed, absl::Milliseconds(1))),
          report->not_sent, failed);
    }
    if (dns != nullptr && !options_.json) {
      out_ << absl::StrFormat("DNS: %d lookups of %s, holding %s; %d requests failed unresolved\n",
                              dns->lookups(), options_.service_name,
                              absl::StrJoin(dns->addresses(), " then or "), report->unresolved);
    }
    if (!options_.resource.empty()) {
      if (const int code = ReportFreezes(*report, &json); code != kExitOk) return code;
    }
    if (options_.json) Json(json);
    if (!options_.report_json.empty()) {
      std::string text;
      google::protobuf::util::JsonPrintOptions print;
      print.add_whitespace = true;
      if (!google::protobuf::util::MessageToJsonString(json, &text, print).ok()) {
        err_ << "shadowctl: the report does not print as JSON\n";
        return kExitRpcError;
      }
      if (absl::Status written = WriteFileAtomically(options_.report_json, text, 0644);
          !written.ok()) {
        err_ << "shadowctl: " << written.message() << "\n";
        return kExitUsage;
      }
    }
    return kExitOk;
  }

  // The write freezes of --resource's migrations that fell in the run, as the clients saw them
  // (cli/load_runner.h, WritesDuring), beside the freeze the server measured.
  int ReportFreezes(const LoadReport& report, google::protobuf::Struct* json) {
    pb::ListMigrationsRequest request;
    request.set_resource_id(options_.resource);
    pb::ListMigrationsResponse all;
    if (grpc::Status status = ListAllMigrations(request, &all); !status.ok()) return Fail(status);
    const absl::Time end = report.started + report.elapsed;
    // The freeze itself is short against the gaps between writes: the second around it shows
    // whether writes queued behind it.
    Table table({"migration", "to", "freeze (server)", "writes in it", "slowest in it",
                 "writes within 1 s", "failed", "slowest within 1 s"});
    google::protobuf::ListValue* list = (*json->mutable_fields())["freezes"].mutable_list_value();
    const FreezeAsSeen typical =
        WritesDuring(report.writes, absl::InfinitePast(), absl::InfinitePast());
    auto ms = [](const FreezeAsSeen& seen, absl::Duration d) {
      return seen.writes > 0 ? absl::StrFormat("%.1f ms", absl::ToDoubleMilliseconds(d))
                             : std::string("-");
    };
    for (const pb::Migration& m : all.migrations()) {
      const pb::MigrationProgress& p = m.progress();
      if (!p.has_freeze_started_wall() || !p.has_freeze_seconds()) continue;
      const absl::Time from = FromProtoTime(p.freeze_started_wall());
      const absl::Time to = from + absl::Seconds(p.freeze_seconds());
      if (to < report.started || from > end) continue;
      const FreezeAsSeen in = WritesDuring(report.writes, from, to);
      const FreezeAsSeen near =
          WritesDuring(report.writes, from - absl::Seconds(1), to + absl::Seconds(1));
      table.AddRow({m.id(), m.target_location(),
                    absl::StrFormat("%.1f ms", p.freeze_seconds() * 1e3), absl::StrCat(in.writes),
                    ms(in, in.slowest), absl::StrCat(near.writes), absl::StrCat(near.failed),
                    ms(near, near.slowest)});
      auto& row = *list->add_values()->mutable_struct_value()->mutable_fields();
      row["migration_id"].set_string_value(m.id());
      row["to"].set_string_value(m.target_location());
      row["freeze_seconds"].set_number_value(p.freeze_seconds());
      row["writes"].set_number_value(in.writes);
      row["slowest_write_ms"].set_number_value(absl::ToDoubleMilliseconds(in.slowest));
      row["writes_within_1s"].set_number_value(near.writes);
      row["failed_within_1s"].set_number_value(near.failed);
      row["slowest_write_within_1s_ms"].set_number_value(absl::ToDoubleMilliseconds(near.slowest));
    }
    (*json->mutable_fields())["typical_write_ms"].set_number_value(
        absl::ToDoubleMilliseconds(typical.typical_write));
    if (!options_.json) {
      out_ << absl::StrFormat(
          "write freezes of %s's migrations during the run, as the clients saw them (the median "
          "write took %.1f ms):\n",
          options_.resource, absl::ToDoubleMilliseconds(typical.typical_write));
      out_ << (list->values_size() == 0 ? std::string("  none\n") : table.Render());
    }
    return kExitOk;
  }

  int ImportAccesses(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
      err_ << "shadowctl: cannot read " << path << "\n";
      return kExitUsage;
    }
    if (in.tellg() > kMaxImportBytes) {
      err_ << "shadowctl: " << path << " is over " << (kMaxImportBytes >> 20) << " MiB: split it\n";
      return kExitUsage;
    }
    in.seekg(0);
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<std::vector<ImportedAccess>> rows = ParseAccessCsv(text.str());
    if (!rows.ok()) {
      err_ << "shadowctl: " << path << ", " << rows.status().message() << "\n";
      return kExitUsage;
    }
    // Named by the file's content: importing the same file again stores nothing twice.
    const uint64_t digest = Fnv1a64(text.str());
    Tally tally;
    for (size_t first = 0, part = 0; first < rows->size(); first += kImportBatchEvents, ++part) {
      pb::AccessBatch batch;
      batch.set_batch_id(absl::StrFormat("import-%016x-%d", digest, part));
      for (size_t i = first; i < std::min(rows->size(), first + kImportBatchEvents); ++i) {
        const ImportedAccess& a = (*rows)[i];
        pb::AccessEvent* e = batch.add_events();
        *e->mutable_time() = ToProtoTime(a.time);
        e->set_client_ip(a.client_ip);
        e->set_resource_id(a.resource_id);
        e->set_request_type(a.request_type);
        e->set_bytes_in(a.bytes_in);
        e->set_bytes_out(a.bytes_out);
        if (a.latency_ms.has_value()) e->set_latency_ms(*a.latency_ms);
      }
      if (const int code = SendBatch(batch, &tally); code != kExitOk) return code;
    }
    return Summarize(absl::StrCat("imported ", rows->size(), " accesses from ", path), tally);
  }

 private:
  static constexpr size_t kImportBatchEvents = 1000;

  struct Tally {
    int64_t stored = 0, stored_before = 0;
    std::map<std::string, int64_t> refused;  // by reason
  };

  // One batch, resent while the server's queue is full; the acknowledgement tallied.
  int SendBatch(const pb::AccessBatch& batch, Tally* tally) {
    pb::BatchAck ack;
    for (int attempt = 0;; ++attempt) {
      auto context = Context();
      grpc::Status status = telemetry_->RecordAccessBatch(context.get(), batch, &ack);
      if (status.ok()) break;
      if (status.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED || attempt > 20) {
        return Fail(status);
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    if (ack.code() != 0) {
      err_ << "shadowctl: batch " << batch.batch_id() << " not stored: " << ack.message() << "\n";
      return kExitRpcError;
    }
    (ack.duplicate() ? tally->stored_before : tally->stored) +=
        ack.events_accepted() + ack.events_demand_only();
    for (const pb::Rejection& r : ack.rejections()) tally->refused[r.reason()] += r.count();
    return kExitOk;
  }

  int Summarize(const std::string& what, const Tally& tally) {
    std::vector<std::string> refused;
    for (const auto& [reason, n] : tally.refused) refused.push_back(absl::StrCat(reason, " ", n));
    out_ << absl::StrFormat(
        "%s: %d stored, %d stored before%s\n", what, tally.stored, tally.stored_before,
        refused.empty() ? "" : absl::StrCat("; refused: ", absl::StrJoin(refused, ", ")));
    return refused.empty() ? kExitOk : kExitRpcError;
  }

  LoadPlanOptions PlanOptions() const {
    LoadPlanOptions o;
    o.from_hour = options_.from_hour;
    o.hours = options_.hours;
    o.requests_per_unit = options_.requests_per_unit;
    o.time_scale = options_.time_scale;
    o.write_share = options_.write_share;
    o.max_requests = options_.max_requests;
    return o;
  }

  int Bad(const absl::Status& status) {
    err_ << "shadowctl: " << status.message() << "\n";
    return kExitUsage;
  }

  // The trace's `backfill_weeks` before --from_hour as access events, its last hour the hour
  // before now, to --resource. Batch ids name resource, hour, region and part, so that a re-run
  // stores nothing twice.
  int Backfill(const LoadTrace& trace, const std::map<std::string, std::string>& networks) {
    if (options_.resource.empty()) {
      err_ << "shadowctl: --backfill needs --resource (the resource the accesses were to)\n";
      return kExitUsage;
    }
    LoadPlanOptions o = PlanOptions();
    o.hours = options_.backfill_weeks * 168;
    o.from_hour = options_.from_hour - o.hours;
    o.time_scale = 1;  // offsets in trace time: an hour is an hour
    o.write_share = 0;
    if (o.from_hour < 0) {
      err_ << "shadowctl: --backfill=" << options_.backfill_weeks << " reaches before the trace: "
           << "raise --from_hour to at least " << o.hours << "\n";
      return kExitUsage;
    }
    absl::StatusOr<LoadPlan> plan = PlanLoad(trace, networks, o);
    if (!plan.ok()) return Bad(plan.status());
    // The server's domain time, which a scaled clock (a demo) runs ahead of real time.
    pb::GetServerInfoResponse info;
    grpc::Status asked = server_->GetServerInfo(Context().get(), pb::GetServerInfoRequest(), &info);
    if (!asked.ok()) return Fail(asked);
    const absl::Time now = FromProtoTime(info.domain_time());
    const absl::Time first = now - absl::Hours(o.hours + 1);
    const absl::Time first_hour = absl::FromUnixSeconds(absl::ToUnixSeconds(first) / 3600 * 3600);
    // One batch per hour, region and thousand accesses, named by them.
    std::map<std::pair<int, int>, std::vector<const PlannedRequest*>> groups;
    for (const PlannedRequest& q : plan->requests) groups[{q.hour, q.region}].push_back(&q);
    Tally tally;
    for (const auto& [key, list] : groups) {
      const auto [hour, region] = key;
      for (size_t first = 0, part = 0; first < list.size(); first += kBackfillBatchEvents, ++part) {
        pb::AccessBatch batch;
        batch.set_batch_id(absl::StrCat("backfill-", options_.resource, "-",
                                        absl::ToUnixSeconds(first_hour) / 3600 + hour - o.from_hour,
                                        "-", region, "-", part));
        for (size_t i = first; i < std::min(list.size(), first + kBackfillBatchEvents); ++i) {
          pb::AccessEvent* e = batch.add_events();
          e->mutable_time()->set_seconds(absl::ToUnixSeconds(first_hour + list[i]->at));
          e->set_client_ip(list[i]->source_address);
          e->set_resource_id(options_.resource);
          e->set_request_type("GET");
          e->set_bytes_out(1000);
        }
        if (const int code = SendBatch(batch, &tally); code != kExitOk) return code;
      }
    }
    return Summarize(
        absl::StrCat("back-filled ", options_.backfill_weeks, " weeks (", plan->requests.size(),
                     " accesses) to resource ", options_.resource),
        tally);
  }
};

}  // namespace

void AddLoadgenCommands(CommandTable* table) {
  table->push_back(
      {{"loadgen"},
       {},
       "[--endpoint=HOST:PORT | --dns_server=IP:PORT --service_name=NAME --service_port=N] "
       "[--trace=synthetic|DIR] [--locations_file=F] [--from_hour=N] "
       "[--hours=N] [--requests_per_unit=X] [--time_scale=X] [--write_share=X] "
       "[--max_requests=N] [--max_seconds=S] [--concurrency=N] [--resource=ID] "
       "[--report_json=FILE] [--backfill=WEEKS "
       "--resource=ID]",
       "replay a regional demand trace as real requests from each region's loopback client "
       "addresses (the locations file's networks:) through the traffic layer (with --resource, "
       "the write freezes of its migrations as the clients saw them); or --backfill its past "
       "weeks as access events",
       Call<LoadgenCommands, &LoadgenCommands::Loadgen>});
  table->push_back({{"accesses", "import"},
                    {"FILE"},
                    "",
                    "import an existing access log: a CSV of time,client_ip,resource_id,"
                    "request_type,bytes_in,bytes_out,latency_ms (RFC 3339 times); a bad row "
                    "imports nothing, a re-run stores nothing twice",
                    CallWith<LoadgenCommands, &LoadgenCommands::ImportAccesses>});
}

}  // namespace shadowplane::cli
