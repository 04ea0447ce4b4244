#include "cli/shadowctl.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>
#include <grpcpp/grpcpp.h>

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/table.h"
#include "shadowplane/v1/events.grpc.pb.h"
#include "shadowplane/v1/forecast.grpc.pb.h"
#include "shadowplane/v1/locations.grpc.pb.h"
#include "shadowplane/v1/migrations.grpc.pb.h"
#include "shadowplane/v1/reservations.grpc.pb.h"
#include "shadowplane/v1/sync.grpc.pb.h"
#include "shadowplane/v1/telemetry.grpc.pb.h"

namespace shadowplane::cli {

namespace pb = shadowplane::v1;

namespace {

const char* StatusName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    default:
      return "ERROR";
  }
}

class Shadowctl {
 public:
  Shadowctl(const ShadowctlOptions& options, std::ostream& out, std::ostream& err)
      : options_(options), out_(out), err_(err) {
    auto channel = grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials());
    locations_ = pb::LocationService::NewStub(channel);
    reservations_ = pb::ReservationService::NewStub(channel);
    sync_ = pb::SyncService::NewStub(channel);
    telemetry_ = pb::TelemetryService::NewStub(channel);
    forecasts_ = pb::ForecastService::NewStub(channel);
    events_ = pb::EventService::NewStub(channel);
    migrations_ = pb::MigrationService::NewStub(channel);
  }

  int Run(const std::vector<std::string>& w) {
    auto is = [&](std::initializer_list<const char*> words) {
      if (w.size() < words.size()) return false;
      size_t i = 0;
      for (const char* word : words) {
        if (w[i++] != word) return false;
      }
      return true;
    };
    if (is({"locations", "list"}) && w.size() == 2) return ListLocations();
    if (is({"locations", "get"}) && w.size() == 3) return GetLocation(w[2]);
    if (is({"regions", "list"}) && w.size() == 2) return ListRegions();
    if (is({"reserve"}) && w.size() == 1) return Reserve();
    if (is({"reservations", "list"}) && w.size() == 2) return ListReservations();
    if (is({"reservations", "get"}) && w.size() == 3) return GetReservation(w[2]);
    if (is({"reservations", "release"}) && w.size() == 3) return Release(w[2]);
    if (is({"reservations", "update"}) && w.size() == 3) return Update(w[2]);
    if (is({"sync"}) && w.size() == 2) return SyncNow(w[1]);
    if (is({"syncs"}) && w.size() == 2) return ListSyncRuns(w[1]);
    if (is({"demand"}) && w.size() == 2) return GetDemand(w[1]);
    if (is({"predict"}) && w.size() == 2) return Predict(w[1]);
    if (is({"backtest"}) && w.size() == 2) return Backtest(w[1]);
    if (is({"events", "register"}) && w.size() == 2) return RegisterEvent();
    if (is({"events", "list"}) && w.size() == 2) return ListEvents();
    if (is({"events", "get"}) && w.size() == 3) return GetEvent(w[2]);
    if (is({"events", "delete"}) && w.size() == 3) return DeleteEvent(w[2]);
    if (is({"migrate"}) && w.size() == 2) return Migrate(w[1]);
    if (is({"migrations", "list"}) && w.size() == 2) return ListMigrations();
    if (is({"migrations", "get"}) && w.size() == 3) return GetMigration(w[2]);
    if (is({"migrations", "cancel"}) && w.size() == 3) return CancelMigration(w[2]);
    if (is({"migrations", "watch"}) && w.size() == 3) return WatchMigration(w[2]);
    if (is({"migrations", "why"}) && w.size() == 3) return WhyMigration(w[2]);
    err_ << "shadowctl: unknown command";
    for (const auto& word : w) err_ << " " << word;
    err_ << "\n\n" << ShadowctlUsage();
    return kExitUsage;
  }

 private:
  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
    return context;
  }

  int Fail(const grpc::Status& status) {
    err_ << "shadowctl: " << StatusName(status.error_code()) << ": " << status.error_message()
         << "\n";
    return kExitRpcError;
  }

  // Every page of a list: `rpc(request, page)` page after page, the pages merged into `all` (their
  // repeated fields appended).
  template <typename Request, typename Response, typename Rpc>
  static grpc::Status ReadAllPages(Request request, Response* all, Rpc rpc) {
    do {
      Response page;
      grpc::Status status = rpc(request, &page);
      if (!status.ok()) return status;
      request.set_page_token(page.next_page_token());
      all->MergeFrom(page);
    } while (!request.page_token().empty());
    all->clear_next_page_token();
    return grpc::Status::OK;
  }

  void Json(const google::protobuf::Message& message) {
    std::string json;
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = true;
    print.preserve_proto_field_names = true;
    (void)google::protobuf::util::MessageToJsonString(message, &json, print);
    out_ << json;
  }

  int ListLocations() {
    pb::ListLocationsResponse all;
    pb::ListLocationsRequest request;
    request.set_region(options_.region);
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return locations_->ListLocations(Context().get(),
                                                                              page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"name", "region", "lat", "lon", "agent", "$/vcpu-h", "$/gib-h", "spot $/vcpu-h",
                 "millicores used/total", "mib used/total"});
    for (const auto& l : all.locations()) {
      table.AddRow({l.name(), l.region(), absl::StrFormat("%.2f", l.latitude()),
                    absl::StrFormat("%.2f", l.longitude()), l.agent_endpoint(),
                    absl::StrFormat("%.4f", l.on_demand_price_per_vcpu_hour()),
                    absl::StrFormat("%.4f", l.on_demand_price_per_gib_hour()),
                    l.has_spot_price_per_vcpu_hour()
                        ? absl::StrFormat("%.4f", l.spot_price_per_vcpu_hour())
                        : "-",
                    absl::StrCat(l.used_millicores(), "/", l.capacity_millicores()),
                    absl::StrCat(l.used_memory_mib(), "/", l.capacity_memory_mib())});
    }
    out_ << table.Render();
    return kExitOk;
  }

  int GetLocation(const std::string& name) {
    pb::GetLocationRequest request;
    request.set_name(name);
    pb::Location l;
    grpc::Status status = locations_->GetLocation(Context().get(), request, &l);
    if (!status.ok()) return Fail(status);
    Json(l);  // every LocationData field; a table would hide most of them
    return kExitOk;
  }

  int ListRegions() {
    pb::ListRegionsRequest request;
    pb::ListRegionsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return locations_->ListRegions(Context().get(),
                                                                            page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"name", "display name", "lat", "lon"});
    for (const auto& r : all.regions()) {
      table.AddRow({r.name(), r.display_name(), absl::StrFormat("%.2f", r.latitude()),
                    absl::StrFormat("%.2f", r.longitude())});
    }
    out_ << table.Render();
    return kExitOk;
  }

  void PrintReservation(const pb::Reservation& r) {
    if (options_.json) return Json(r);
    out_ << "reservation  " << r.id() << "  (" << r.state() << ")\n"
         << "resource     " << r.resource_id() << "  " << r.name() << "\n"
         << "capacity     " << r.millicores() << " millicores, " << r.memory_mib() << " MiB, "
         << (r.capacity_type() == pb::SPOT ? "spot" : "on-demand") << "\n"
         << "shadow       " << r.shadow_capacity_fraction() << " of the capacity, synced every "
         << r.shadow_sync_interval_seconds() << " s\n";
    if (r.has_last_synced_at()) {
      out_ << "last sync    " << google::protobuf::util::TimeUtil::ToString(r.last_synced_at())
           << "  (" << absl::StrFormat("%.0f", r.shadow_staleness_seconds()) << " s stale)\n";
    } else if (r.state() == "active") {
      out_ << "last sync    never\n";
    }
    if (!r.last_sync_error().empty()) out_ << "sync error   " << r.last_sync_error() << "\n";
    Table table({"role", "location", "region", "endpoint", "millicores", "mib", "mode", "state"});
    for (const pb::Instance* i : {&r.primary(), &r.shadow()}) {
      if (i->id().empty()) continue;
      table.AddRow({i->role(), i->location(), i->region(), i->endpoint(),
                    absl::StrCat(i->millicores()), absl::StrCat(i->memory_mib()),
                    i->read_only() ? "read-only" : "read-write", i->state()});
    }
    out_ << "\n" << table.Render();
    if (!r.explanation().empty()) out_ << "\nwhy: " << r.explanation() << "\n";
    if (!r.traffic_provider().empty()) {
      out_ << "traffic: " << r.service_name() << " (" << r.traffic_provider() << ") -> primary\n";
    }
    if (!r.error().empty()) out_ << "error: " << r.error() << "\n";
  }

  int Reserve() {
    pb::ReserveRequest request;
    if (options_.request_id.empty()) {
      err_ << "shadowctl: reserve needs --request_id (retrying with the same id is safe)\n";
      return kExitUsage;
    }
    request.set_request_id(options_.request_id);
    request.set_name(options_.name);
    request.set_millicores(options_.millicores);
    request.set_memory_mib(options_.memory_mib);
    request.set_capacity_type(options_.spot ? pb::SPOT : pb::ON_DEMAND);
    request.set_seed_dir(options_.seed_dir);
    request.set_service_name(options_.service_name);
    if (options_.shadow_fraction >= 0)
      request.set_shadow_capacity_fraction(options_.shadow_fraction);
    if (options_.sync_interval >= 0)
      request.set_shadow_sync_interval_seconds(options_.sync_interval);
    for (const auto& l : options_.locations) request.mutable_placement()->add_locations(l);
    for (const auto& r : options_.regions) request.mutable_placement()->add_regions(r);
    for (const auto& c : options_.clients) {
      std::vector<std::string> parts = absl::StrSplit(c, ':');
      double weight = 1;
      if (parts.empty() || parts.size() > 2 ||
          (parts.size() == 2 && !absl::SimpleAtod(parts[1], &weight))) {
        err_ << "shadowctl: --clients takes region:weight pairs, got '" << c << "'\n";
        return kExitUsage;
      }
      auto* client = request.mutable_placement()->add_client_regions();
      client->set_region(parts[0]);
      client->set_weight(weight);
    }
    pb::Reservation r;
    grpc::Status status = reservations_->Reserve(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int ListReservations() {
    pb::ListReservationsRequest request;
    request.set_state(options_.state);
    request.set_location(options_.location);
    pb::ListReservationsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return reservations_->ListReservations(
                                                 Context().get(), page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    Table table({"id", "name", "state", "millicores", "primary", "shadow"});
    for (const auto& r : all.reservations()) {
      table.AddRow({r.id(), r.name(), r.state(), absl::StrCat(r.millicores()),
                    r.primary().location(), r.shadow().location()});
    }
    out_ << table.Render();
    return kExitOk;
  }

  int GetReservation(const std::string& id) {
    pb::GetReservationRequest request;
    request.set_id(id);
    pb::Reservation r;
    grpc::Status status = reservations_->GetReservation(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int Release(const std::string& id) {
    pb::ReleaseRequest request;
    request.set_id(id);
    pb::Reservation r;
    grpc::Status status = reservations_->Release(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int Update(const std::string& id) {
    pb::UpdateReservationRequest request;
    request.set_id(id);
    if (options_.millicores > 0) request.set_millicores(options_.millicores);
    if (options_.memory_mib > 0) request.set_memory_mib(options_.memory_mib);
    if (options_.shadow_fraction >= 0)
      request.set_shadow_capacity_fraction(options_.shadow_fraction);
    if (options_.sync_interval >= 0)
      request.set_shadow_sync_interval_seconds(options_.sync_interval);
    pb::Reservation r;
    grpc::Status status = reservations_->UpdateReservation(Context().get(), request, &r);
    if (!status.ok()) return Fail(status);
    PrintReservation(r);
    return kExitOk;
  }

  int SyncNow(const std::string& id) {
    pb::SyncNowRequest request;
    request.set_reservation_id(id);
    request.set_full(options_.full);
    pb::SyncRun run;
    auto context = Context();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Hours(1)));  // a whole round
    grpc::Status status = sync_->SyncNow(context.get(), request, &run);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(run), kExitOk;
    out_ << absl::StrFormat(
        "%s round %d: %d of %d files transferred, %d deleted in %.3f s\n"
        "bytes: %d on the wire (literal %d, signatures %d), %d rebuilt from the shadow's copy\n",
        run.mode(), run.id(), run.files_transferred(), run.files_total(), run.files_deleted(),
        run.duration_seconds(), run.bytes_wire(), run.bytes_literal(), run.bytes_signature(),
        run.bytes_matched());
    if (run.has_identical()) {
      out_ << "tree hashes: source " << run.source_tree_hash().substr(0, 16) << ", shadow "
           << run.target_tree_hash().substr(0, 16)
           << (run.identical() ? " (identical)\n" : " (DIFFERENT)\n");
    }
    if (run.dirty_files() > 0) {
      out_ << "changed during the round (the next round takes them): " << run.dirty_files()
           << " files, " << run.dirty_bytes() << " bytes\n";
      for (const auto& d : run.dirty()) out_ << "  " << d.path() << "  " << d.size() << "\n";
    }
    return kExitOk;
  }

  int ListSyncRuns(const std::string& id) {
    pb::ListSyncRunsRequest request;
    request.set_reservation_id(id);
    pb::ListSyncRunsResponse response;
    grpc::Status status = sync_->ListSyncRuns(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"id", "started", "trigger", "mode", "result", "seconds", "files", "wire bytes",
                 "dirty", "error"});
    for (const auto& r : response.runs()) {
      table.AddRow({absl::StrCat(r.id()),
                    google::protobuf::util::TimeUtil::ToString(r.started_at()), r.trigger(),
                    r.mode(), r.result(), absl::StrFormat("%.3f", r.duration_seconds()),
                    absl::StrCat(r.files_transferred(), "/", r.files_total()),
                    absl::StrCat(r.bytes_wire()), absl::StrCat(r.dirty_files()), r.error()});
    }
    out_ << table.Render();
    return kExitOk;
  }

  // Rows are hours (or days), columns the origin regions' request counts, then the total and
  // the distinct clients of all regions together.
  int GetDemand(const std::string& resource_id) {
    pb::GetDemandRequest request;
    request.set_resource_id(resource_id);
    for (const bool from : {true, false}) {
      const std::string& text = from ? options_.from : options_.to;
      if (text.empty()) continue;
      google::protobuf::Timestamp t;
      if (!google::protobuf::util::TimeUtil::FromString(text, &t)) {
        err_ << "shadowctl: --from and --to take RFC 3339 times (2026-11-29T18:00:00Z), got \""
             << text << "\"\n";
        return kExitUsage;
      }
      *(from ? request.mutable_from() : request.mutable_to()) = t;
    }
    if (options_.granularity == "day") {
      request.set_granularity(pb::GRANULARITY_DAY);
    } else if (options_.granularity.empty() || options_.granularity == "hour") {
      request.set_granularity(pb::GRANULARITY_HOUR);
    } else {
      err_ << "shadowctl: --granularity is hour or day, got \"" << options_.granularity << "\"\n";
      return kExitUsage;
    }
    pb::GetDemandResponse response;
    grpc::Status status = telemetry_->GetDemand(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    std::vector<std::string> headers = {
        request.granularity() == pb::GRANULARITY_DAY ? "day (utc)" : "hour (utc)"};
    for (const auto& r : response.regions()) headers.push_back(r.origin_region());
    headers.push_back("total");
    headers.push_back("clients");
    headers.push_back("mb out");
    Table table(headers);
    for (int i = 0; i < response.total().points_size(); ++i) {
      const pb::DemandPoint& total = response.total().points(i);
      std::vector<std::string> row = {absl::FormatTime(
          "%Y-%m-%d %H:%M", absl::FromUnixSeconds(total.start().seconds()), absl::UTCTimeZone())};
      for (const auto& r : response.regions()) row.push_back(absl::StrCat(r.points(i).requests()));
      row.push_back(absl::StrCat(total.requests()));
      row.push_back(absl::StrFormat("%.0f", total.distinct_clients()));
      row.push_back(absl::StrFormat("%.1f", total.bytes_out() / 1e6));
      table.AddRow(std::move(row));
    }
    out_ << table.Render();
    return kExitOk;
  }

  // A header naming each series' model (and fallback), then rows of hours with the forecast
  // requests per origin region and in total.
  int Predict(const std::string& resource_id) {
    pb::PredictRequest request;
    request.set_resource_id(resource_id);
    if (options_.horizon != 0) request.set_horizon_hours(options_.horizon);
    request.set_refresh(options_.refresh);
    pb::PredictResponse response;
    grpc::Status status = forecasts_->Predict(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    auto time = [](const google::protobuf::Timestamp& t) {
      return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()),
                              absl::UTCTimeZone());
    };
    out_ << "resource " << response.resource_id() << ": " << response.horizon_hours()
         << " hours from " << time(response.first_hour()) << " UTC, computed "
         << time(response.computed_at()) << (response.computed_now() ? " (now)" : "") << "\n";
    Table models({"series", "method", "models", "history h", "backtest smape",
                  "realized smape (7d)", "80% / 95% hit", "forecast id", "note"});
    std::vector<const pb::SeriesForecast*> series;
    for (const auto& r : response.regions()) series.push_back(&r);
    series.push_back(&response.total());
    for (const pb::SeriesForecast* s : series) {
      std::vector<std::string> weighted;
      for (int i = 0; i < s->models_size(); ++i) {
        weighted.push_back(s->weights_size() > i && s->models_size() > 1
                               ? absl::StrFormat("%s %.2f", s->models(i), s->weights(i))
                               : s->models(i));
      }
      const pb::RealizedAccuracy& realized = s->realized();
      models.AddRow(
          {s->origin_region(), s->method(), absl::StrJoin(weighted, ", "),
           absl::StrCat(s->history_hours()),
           s->backtest_origins() > 0 ? absl::StrFormat("%.1f%%", s->backtest().smape()) : "-",
           realized.forecasts() > 0
               ? absl::StrFormat("%.1f%% (%d)", realized.mean_smape(), realized.forecasts())
               : "-",
           realized.forecasts() > 0
               ? absl::StrFormat("%.0f%% / %.0f%%", 100 * realized.coverage_80(),
                                 100 * realized.coverage_95())
               : "-",
           absl::StrCat(s->forecast_id()),
           s->fallback_reason().empty() ? s->selection_note() : s->fallback_reason()});
    }
    out_ << models.Render() << "\n";
    if (response.events_size() > 0) {
      Table events({"event", "kind", "name", "from", "to", "regions", "uplift", "from what"});
      for (const pb::AppliedEvent& e : response.events()) {
        events.AddRow({e.event_id(), e.kind(), e.name(), time(e.start_time()), time(e.end_time()),
                       e.regions().empty() ? "all" : absl::StrJoin(e.regions(), ","),
                       absl::StrFormat("x%.2f", e.uplift()),
                       e.outcomes() > 0
                           ? absl::StrFormat("%s (%d)", e.uplift_source(), e.outcomes())
                           : e.uplift_source()});
      }
      out_ << "known events (applied to the values below):\n" << events.Render() << "\n";
    }
    // Each cell: the point forecast and its 80% interval (quantiles 0.1 and 0.9) when asked for.
    std::vector<std::string> headers = {"hour (utc)"};
    for (const pb::SeriesForecast* s : series) headers.push_back(s->origin_region() + " [80%]");
    Table table(headers);
    const absl::Time first = absl::FromUnixSeconds(response.first_hour().seconds());
    auto level = [](const pb::SeriesForecast* s, double q) -> const pb::QuantileForecast* {
      for (const auto& quantile : s->quantiles()) {
        if (std::abs(quantile.level() - q) < 1e-9) return &quantile;
      }
      return nullptr;
    };
    for (int h = 0; h < response.horizon_hours(); ++h) {
      std::vector<std::string> row = {
          absl::FormatTime("%Y-%m-%d %H:%M", first + absl::Hours(h), absl::UTCTimeZone())};
      for (const pb::SeriesForecast* s : series) {
        if (h >= s->values_size()) {
          row.push_back("");
          continue;
        }
        const pb::QuantileForecast *lo = level(s, 0.1), *hi = level(s, 0.9);
        row.push_back(
            lo != nullptr && hi != nullptr && h < lo->values_size() && h < hi->values_size()
                ? absl::StrFormat("%.1f [%.1f-%.1f]", s->values(h), lo->values(h), hi->values(h))
                : absl::StrFormat("%.1f", s->values(h)));
      }
      table.AddRow(std::move(row));
    }
    out_ << table.Render();
    return kExitOk;
  }

  // An RFC 3339 flag value into `out`; false (after saying so) when it does not parse.
  bool ParseTimeFlag(const char* flag, const std::string& text, google::protobuf::Timestamp* out) {
    if (text.empty()) return true;  // the server names the missing field
    if (google::protobuf::util::TimeUtil::FromString(text, out)) return true;
    err_ << "shadowctl: --" << flag << " takes an RFC 3339 time (2026-11-29T18:00:00Z), got \""
         << text << "\"\n";
    return false;
  }

  void PrintEvents(const std::vector<const pb::Event*>& events) {
    auto time = [](const google::protobuf::Timestamp& t) {
      return absl::FormatTime("%Y-%m-%d %H:%M", absl::FromUnixSeconds(t.seconds()),
                              absl::UTCTimeZone());
    };
    Table table({"event", "kind", "name", "from (utc)", "to (utc)", "resources", "regions",
                 "expected uplift", "measured"});
    for (const pb::Event* e : events) {
      table.AddRow(
          {e->event_id(), e->kind(), e->name(), time(e->start_time()), time(e->end_time()),
           e->resource_ids().empty() ? "any" : absl::StrJoin(e->resource_ids(), ","),
           e->regions().empty() ? "all" : absl::StrJoin(e->regions(), ","),
           e->has_expected_uplift() ? absl::StrFormat("x%.2f", e->expected_uplift()) : "learned",
           e->has_measure_time() ? time(e->measure_time()) : "-"});
    }
    out_ << table.Render();
  }

  int RegisterEvent() {
    pb::RegisterEventRequest request;
    request.set_request_id(options_.request_id);
    request.set_kind(options_.kind);
    request.set_name(options_.name);
    for (const std::string& r : options_.resources) request.add_resource_ids(r);
    for (const std::string& r : options_.regions) request.add_regions(r);
    if (!ParseTimeFlag("start", options_.start, request.mutable_start_time()) ||
        !ParseTimeFlag("end", options_.end, request.mutable_end_time())) {
      return kExitUsage;
    }
    if (options_.start.empty()) request.clear_start_time();
    if (options_.end.empty()) request.clear_end_time();
    if (!options_.uplift.empty()) {
      double uplift;
      if (!absl::SimpleAtod(options_.uplift, &uplift)) {
        err_ << "shadowctl: --uplift takes a number (2 doubles demand), got \"" << options_.uplift
             << "\"\n";
        return kExitUsage;
      }
      request.set_expected_uplift(uplift);
    }
    pb::RegisterEventResponse response;
    grpc::Status status = events_->RegisterEvent(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    PrintEvents({&response.event()});
    if (!response.created()) out_ << "(registered before with this --request_id)\n";
    return kExitOk;
  }

  int ListEvents() {
    pb::ListEventsRequest request;
    request.set_resource_id(options_.resource);
    request.set_region(options_.region);
    request.set_kind(options_.kind);
    pb::ListEventsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return events_->ListEvents(Context().get(),
                                                                        page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    std::vector<const pb::Event*> events;
    for (const auto& e : all.events()) events.push_back(&e);
    PrintEvents(events);
    return kExitOk;
  }

  // The event, then how it turned out for each resource once measured.
  int GetEvent(const std::string& id) {
    pb::GetEventRequest request;
    request.set_event_id(id);
    pb::Event event;
    grpc::Status status = events_->GetEvent(Context().get(), request, &event);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(event), kExitOk;
    PrintEvents({&event});
    if (event.outcomes_size() > 0) {
      Table outcomes({"resource", "hours", "requests", "forecast without it", "uplift"});
      for (const pb::EventOutcome& o : event.outcomes()) {
        outcomes.AddRow({o.resource_id(), absl::StrCat(o.hours()),
                         absl::StrFormat("%.0f", o.actual()), absl::StrFormat("%.0f", o.baseline()),
                         absl::StrFormat("x%.2f", o.uplift())});
      }
      out_ << "\n" << outcomes.Render();
    }
    return kExitOk;
  }

  int DeleteEvent(const std::string& id) {
    pb::DeleteEventRequest request;
    request.set_event_id(id);
    pb::DeleteEventResponse response;
    grpc::Status status = events_->DeleteEvent(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    out_ << "deleted event " << id << "\n";
    return kExitOk;
  }

  static std::string Mib(int64_t bytes) {
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  }

  // One line of progress: the state and what its step has done so far.
  static std::string ProgressLine(const pb::Migration& m) {
    const pb::MigrationProgress& p = m.progress();
    std::string line = m.state();
    if (p.precopy_rounds() > 0) absl::StrAppend(&line, "  pre-copy round ", p.precopy_rounds());
    if (p.has_bytes_left()) absl::StrAppend(&line, ", ", Mib(p.bytes_left()), " left");
    if (p.has_freeze_seconds()) {
      absl::StrAppend(&line, absl::StrFormat("  write freeze %.3f s", p.freeze_seconds()));
    }
    if (p.has_loss_window_seconds()) {
      absl::StrAppend(&line, absl::StrFormat("  loss window %.1f s", p.loss_window_seconds()));
    }
    if (p.has_paid_off()) absl::StrAppend(&line, p.paid_off() ? "  paid off" : "  did not pay off");
    if (p.attempts() > 0) {
      absl::StrAppend(&line, "  retry ", p.attempts(), ": ", p.last_error());
    }
    if (!m.error().empty()) absl::StrAppend(&line, "  error: ", m.error());
    return line;
  }

  void PrintMigrations(const std::vector<const pb::Migration*>& list) {
    Table table({"id", "reservation", "kind", "state", "to", "capacity", "progress", "created"});
    for (const pb::Migration* m : list) {
      table.AddRow({m->id(), m->reservation_id(), m->kind(), m->state(), m->target_location(),
                    m->target_capacity_type(), ProgressLine(*m).substr(m->state().size()),
                    google::protobuf::util::TimeUtil::ToString(m->created_at())});
    }
    out_ << table.Render();
  }

  int Migrate(const std::string& reservation_id) {
    pb::MigrateRequest request;
    request.set_reservation_id(reservation_id);
    request.set_target_location(options_.to);
    request.set_capacity_type(options_.capacity_type);
    request.set_reason(options_.reason);
    request.set_kind(options_.kind);
    request.set_request_id(options_.request_id.empty()
                               ? absl::StrCat("shadowctl-", absl::ToUnixNanos(absl::Now()))
                               : options_.request_id);
    pb::Migration m;
    grpc::Status status = migrations_->Migrate(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.watch) return WatchMigration(m.id());
    if (options_.json) return Json(m), kExitOk;
    PrintMigrations({&m});
    return kExitOk;
  }

  int ListMigrations() {
    pb::ListMigrationsRequest request;
    request.set_resource_id(options_.resource);
    request.set_state(options_.state);
    pb::ListMigrationsResponse all;
    if (grpc::Status status = ReadAllPages(request, &all,
                                           [&](const auto& page_request, auto* page) {
                                             return migrations_->ListMigrations(Context().get(),
                                                                                page_request, page);
                                           });
        !status.ok()) {
      return Fail(status);
    }
    if (options_.json) return Json(all), kExitOk;
    std::vector<const pb::Migration*> list;
    for (const auto& m : all.migrations()) list.push_back(&m);
    PrintMigrations(list);
    return kExitOk;
  }

  int GetMigration(const std::string& id) {
    pb::GetMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->GetMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(m), kExitOk;
    PrintMigrations({&m});
    Table events({"at", "from", "to", "detail"});
    for (const auto& e : m.events()) {
      events.AddRow({google::protobuf::util::TimeUtil::ToString(e.at()), e.from_state(),
                     e.to_state(), e.detail_json()});
    }
    out_ << "\n" << events.Render();
    if (m.rounds_size() > 0) {
      Table rounds({"round", "kind", "files", "new data", "wire", "changed meanwhile", "seconds"});
      for (const auto& r : m.rounds()) {
        rounds.AddRow({absl::StrCat(r.round()), r.kind(), absl::StrCat(r.files_transferred()),
                       Mib(r.bytes_literal()), Mib(r.bytes_wire()), Mib(r.dirty_bytes()),
                       absl::StrFormat("%.2f", r.duration_seconds())});
      }
      out_ << "\n" << rounds.Render();
    }
    if (!m.progress().observation_note().empty()) {
      out_ << "\nobservation: " << m.progress().observation_note() << "\n";
    }
    return kExitOk;
  }

  // For the person on call: where the migration is, who drives it, what it last ran into, and
  // every state change with its reason.
  int WhyMigration(const std::string& id) {
    pb::GetMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->GetMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(m), kExitOk;
    using google::protobuf::util::TimeUtil;
    const pb::MigrationProgress& p = m.progress();
    out_ << "migration " << m.id() << " (" << m.kind() << ", reservation " << m.reservation_id()
         << ") is " << m.state() << (m.cancel_requested() ? ", cancellation requested" : "")
         << "\n";
    if (m.state() == "DONE" || m.state() == "ROLLED_BACK" || m.state() == "FAILED") {
      out_ << "driven by: nobody now (finished)\n";
    } else if (m.lease_owner().empty()) {
      out_ << "driven by: nobody now (any server claims it at its next pass)\n";
    } else {
      const absl::Duration left =
          absl::FromUnixSeconds(m.lease_expires_at().seconds()) - absl::Now();
      out_ << "driven by: " << m.lease_owner() << ", lease "
           << (left > absl::ZeroDuration()
                   ? absl::StrCat("held for ",
                                  absl::FormatDuration(absl::Trunc(left, absl::Seconds(1))),
                                  " more")
                   : std::string("expired: another server takes it over"))
           << "\n";
    }
    if (p.attempts() > 0) {
      out_ << "retrying: attempt " << p.attempts() << " failed with " << p.last_error()
           << "; next at " << TimeUtil::ToString(p.next_attempt_at()) << "\n";
    }
    if (!m.error().empty()) out_ << "error: " << m.error() << "\n";
    if (p.has_freeze_started_at() && !p.has_switched_at()) {
      out_ << "the source's writes are held since " << TimeUtil::ToString(p.freeze_started_at())
           << (p.has_switch_requested_at() ? " (the traffic switch was asked for)" : "") << "\n";
    }
    Table events({"at", "from", "to", "why"});
    for (const auto& e : m.events()) {
      events.AddRow({TimeUtil::ToString(e.at()), e.from_state(), e.to_state(), e.detail_json()});
    }
    out_ << "\n" << events.Render();
    return kExitOk;
  }

  int CancelMigration(const std::string& id) {
    pb::CancelMigrationRequest request;
    request.set_id(id);
    pb::Migration m;
    grpc::Status status = migrations_->CancelMigration(Context().get(), request, &m);
    if (!status.ok()) return Fail(status);
    out_ << "cancelling migration " << id << " (" << m.state() << "): it rolls back\n";
    return kExitOk;
  }

  // Follows the migration to its end, one line per change (JSON: one object per line).
  int WatchMigration(const std::string& id) {
    grpc::ClientContext context;  // no deadline: a migration takes as long as it takes
    pb::WatchMigrationRequest request;
    request.set_id(id);
    auto stream = migrations_->WatchMigration(&context, request);
    pb::Migration m;
    std::string state, progress;
    int events_shown = 0;
    auto clock = [](const google::protobuf::Timestamp& t) {
      return absl::FormatTime("%H:%M:%E3S",
                              absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos()),
                              absl::LocalTimeZone());
    };
    while (stream->Read(&m)) {
      state = m.state();
      if (options_.json) {
        std::string json;
        (void)google::protobuf::util::MessageToJsonString(m, &json);
        out_ << json << "\n";
        out_.flush();
        continue;
      }
      // Every state change (from the events, so none is missed between two updates), then the
      // progress within the state when it moved.
      for (; events_shown < m.events_size(); ++events_shown) {
        const pb::MigrationEvent& e = m.events(events_shown);
        out_ << clock(e.at()) << "  " << (e.from_state().empty() ? "" : e.from_state() + " -> ")
             << e.to_state() << "  " << e.detail_json() << "\n";
      }
      const std::string line = ProgressLine(m);
      if (line != progress) {
        out_ << clock(m.updated_at()) << "  " << line << "\n";
        progress = line;
      }
      out_.flush();
    }
    grpc::Status status = stream->Finish();
    if (!status.ok()) return Fail(status);
    return state == "DONE" ? kExitOk : kExitRpcError;
  }

  // Per series: how its forecast was chosen, then every candidate's backtest accuracy.
  int Backtest(const std::string& resource_id) {
    pb::BacktestRequest request;
    request.set_resource_id(resource_id);
    pb::BacktestResponse response;
    grpc::Status status = forecasts_->Backtest(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    Table table({"series", "model", "weight", "backtest smape", "backtest mase", "origins"});
    for (const pb::SeriesBacktest& s : response.series()) {
      table.AddRow({s.origin_region(), absl::StrCat("forecast (", s.method(), ")"), "",
                    s.origins() > 0 ? absl::StrFormat("%.2f%%", s.forecast().smape()) : "-",
                    s.origins() > 0 ? absl::StrFormat("%.3f", s.forecast().mase()) : "-",
                    absl::StrCat(s.origins())});
      for (const pb::ModelAccuracy& c : s.candidates()) {
        std::string weight;
        for (int i = 0; i < s.models_size(); ++i) {
          if (s.models(i) == c.model() && i < s.weights_size()) {
            weight = absl::StrFormat("%.2f", s.weights(i));
          }
        }
        table.AddRow({"", c.model(), weight, absl::StrFormat("%.2f%%", c.smape()),
                      absl::StrFormat("%.3f", c.mase()), ""});
      }
      if (s.realized().forecasts() > 0) {
        table.AddRow({"", absl::StrCat("realized, ", s.realized().forecasts(), " forecasts"), "",
                      absl::StrFormat("%.2f%%", s.realized().mean_smape()),
                      absl::StrFormat("%.3f", s.realized().mean_mase()), ""});
      }
      if (!s.selection_note().empty()) table.AddRow({"", s.selection_note(), "", "", "", ""});
    }
    out_ << table.Render();
    return kExitOk;
  }

  const ShadowctlOptions& options_;
  std::ostream& out_;
  std::ostream& err_;
  std::unique_ptr<pb::LocationService::Stub> locations_;
  std::unique_ptr<pb::ReservationService::Stub> reservations_;
  std::unique_ptr<pb::SyncService::Stub> sync_;
  std::unique_ptr<pb::TelemetryService::Stub> telemetry_;
  std::unique_ptr<pb::ForecastService::Stub> forecasts_;
  std::unique_ptr<pb::EventService::Stub> events_;
  std::unique_ptr<pb::MigrationService::Stub> migrations_;
};

}  // namespace

std::string ShadowctlUsage() {
  return R"(usage: shadowctl [--server=HOST:PORT] [--json] COMMAND

  locations list [--region=R]        locations with prices and capacity in use
  locations get NAME                 one location, every field
  regions list
  reserve --request_id=ID --millicores=N --memory_mib=N [--name=N] [--seed_dir=DIR]
          [--locations=a,b] [--regions=r,s] [--clients=region:weight,...] [--spot]
          [--shadow_fraction=F] [--sync_interval=SECONDS] [--service_name=NAME]
  reservations list [--state=S] [--location=L]
  reservations get ID
  reservations update ID [--millicores=N] [--memory_mib=N] [--shadow_fraction=F]
                         [--sync_interval=SECONDS]
  reservations release ID
  sync ID [--full]                   run a shadow sync round now (--full: compare contents)
  syncs ID                           the reservation's sync rounds, newest first
  demand RESOURCE_ID [--from=T] [--to=T] [--granularity=hour|day]
                                     requests per origin region (default: the last 48 hours;
                                     T in RFC 3339, e.g. 2026-11-29T18:00:00Z)
  predict RESOURCE_ID [--horizon=HOURS] [--refresh]
                                     forecast requests per hour, per origin region and in total,
                                     with 80% intervals and accuracy (default 48 hours;
                                     --refresh: compute now)
  backtest RESOURCE_ID               how each series' forecast was chosen: every candidate
                                     model's backtest accuracy, and past forecasts' accuracy
  events register --kind=K --start=T --end=T [--resources=ID,...] [--regions=r,...]
                  [--uplift=X] [--name=N] [--request_id=ID]
                                     a known event (campaign, news, ...): forecasts multiply
                                     the demand it affects by X inside the window (without
                                     --uplift: what past events of the kind did)
  events list [--resource=ID] [--region=R] [--kind=K]
  events get ID                      an event and, once measured, what it did per resource
  events delete ID
  migrate RESERVATION_ID --to=LOCATION [--capacity_type=spot|on_demand] [--reason=TEXT]
          [--kind=emergency] [--request_id=ID] [--watch]
                                     move the primary, with its data, to LOCATION (emergency:
                                     promote the shadow as it is); --watch follows it
  migrations list [--resource=ID] [--state=S]
  migrations get ID                  a migration with its state changes and sync rounds
  migrations cancel ID               roll it back (until its traffic switch)
  migrations watch ID                follow a migration, one line per change, until it ends
                                     (exit 0 when it ends DONE)
  migrations why ID                  for the person on call: state, owner and lease, retries,
                                     held writes, and every state change with its reason

--server defaults to 127.0.0.1:50051 (environment: SHADOWPLANE_SERVER). Exit codes: 0 done,
1 the server refused or could not be reached (the status is printed), 2 bad usage.
)";
}

int RunShadowctl(const std::vector<std::string>& words, const ShadowctlOptions& options,
                 std::ostream& out, std::ostream& err) {
  if (words.empty()) {
    err << ShadowctlUsage();
    return kExitUsage;
  }
  return Shadowctl(options, out, err).Run(words);
}

}  // namespace shadowplane::cli
