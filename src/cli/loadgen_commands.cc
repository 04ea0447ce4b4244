// shadowctl loadgen: a regional workload on one machine (cli/load_plan.h, cli/load_runner.h), and
// the back-fill of a trace's past weeks as access events (the path any importer of existing access
// logs takes: RecordAccessBatch with past timestamps and idempotent batch ids).
#include <unistd.h>

#include <cmath>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/command.h"
#include "cli/load_plan.h"
#include "cli/load_runner.h"
#include "cli/shadowctl.h"
#include "cli/table.h"

namespace shadowplane::cli {
namespace {

constexpr int kBackfillBatchEvents = 1000;

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
    const std::vector<std::string> endpoint = absl::StrSplit(options_.endpoint, ':');
    LoadRunOptions run;
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
    run.concurrency = options_.concurrency;
    run.max_time = absl::Seconds(options_.max_seconds);
    absl::StatusOr<LoadPlan> plan = PlanLoad(*trace, *networks, PlanOptions());
    if (!plan.ok()) return Bad(plan.status());
    out_ << absl::StrFormat(
        "replaying hours %d-%d of the %s trace (%s) at %.0fx: %d requests over %s, from %s\n",
        options_.from_hour, options_.from_hour + options_.hours - 1, options_.trace,
        absl::StrJoin(trace->regions, ", "), options_.time_scale, plan->requests.size(),
        absl::FormatDuration(plan->duration), options_.locations_file);
    out_.flush();
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
    Table table({"region", "planned", "sent", "answered", "failed", "served by"});
    int64_t failed = 0;
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
    }
    out_ << table.Render();
    out_ << absl::StrFormat(
        "%s elapsed; %d not sent (--max_seconds); %d failed\n",
        absl::FormatDuration(absl::Trunc(report->elapsed, absl::Milliseconds(1))), report->not_sent,
        failed);
    return kExitOk;
  }

 private:
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
    const absl::Time first = absl::Now() - absl::Hours(o.hours + 1);
    const absl::Time first_hour = absl::FromUnixSeconds(absl::ToUnixSeconds(first) / 3600 * 3600);
    int64_t accepted = 0, duplicates = 0, rejected = 0;
    size_t i = 0;
    int part = 0;
    while (i < plan->requests.size()) {
      pb::AccessBatch batch;
      const int hour = plan->requests[i].hour;
      const int region = plan->requests[i].region;
      batch.set_batch_id(absl::StrCat("backfill-", options_.resource, "-",
                                      absl::ToUnixSeconds(first_hour) / 3600 + hour - o.from_hour,
                                      "-", region, "-", part));
      while (i < plan->requests.size() && batch.events_size() < kBackfillBatchEvents &&
             plan->requests[i].hour == hour) {
        const PlannedRequest& q = plan->requests[i++];
        pb::AccessEvent* e = batch.add_events();
        const absl::Time at = first_hour + q.at;
        e->mutable_time()->set_seconds(absl::ToUnixSeconds(at));
        e->set_client_ip(q.source_address);
        e->set_resource_id(options_.resource);
        e->set_request_type("GET");
        e->set_bytes_out(1000);
      }
      part = (i < plan->requests.size() && plan->requests[i].hour == hour) ? part + 1 : 0;
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
      if (ack.duplicate()) {
        duplicates += ack.events_accepted() + ack.events_demand_only();
      } else {
        accepted += ack.events_accepted() + ack.events_demand_only();
      }
      for (const pb::Rejection& r : ack.rejections()) rejected += r.count();
    }
    out_ << absl::StrFormat(
        "back-filled %d weeks (%d events) to resource %s: %d stored, %d stored before, %d "
        "refused\n",
        options_.backfill_weeks, plan->requests.size(), options_.resource, accepted, duplicates,
        rejected);
    return rejected > 0 ? kExitRpcError : kExitOk;
  }
};

}  // namespace

void AddLoadgenCommands(CommandTable* table) {
  table->push_back(
      {{"loadgen"},
       {},
       "[--endpoint=HOST:PORT] [--trace=synthetic|DIR] [--locations_file=F] [--from_hour=N] "
       "[--hours=N] [--requests_per_unit=X] [--time_scale=X] [--write_share=X] "
       "[--max_requests=N] [--max_seconds=S] [--concurrency=N] [--backfill=WEEKS "
       "--resource=ID]",
       "replay a regional demand trace as real requests from each region's loopback client "
       "addresses (the locations file's networks:) through the traffic layer; or --backfill its "
       "past weeks as access events",
       Call<LoadgenCommands, &LoadgenCommands::Loadgen>});
}

}  // namespace shadowplane::cli
