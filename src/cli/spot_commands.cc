// shadowctl's commands for prices and spot capacity: importing AWS's spot price history, and
// raising a spot interruption by hand (the local provider's stand-in for the cloud's warning).
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/command.h"
#include "cli/command_context.h"
#include "cli/table.h"

namespace shadowplane::cli {

namespace {

// A price history larger than this is refused before it is read (split it).
constexpr std::streamoff kMaxPriceFileBytes = 64 << 20;

class SpotCommands : public CommandContext {
 public:
  explicit SpotCommands(const CommandContext& context) : CommandContext(context) {}

  // Reads `aws ec2 describe-spot-price-history` output and sends it in one ReportPrices call, so
  // that a bad entry imports nothing.
  int ImportPrices(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) {
      err_ << "shadowctl: cannot read " << path << "\n";
      return kExitUsage;
    }
    if (in.tellg() > kMaxPriceFileBytes) {
      err_ << "shadowctl: " << path << " is over " << (kMaxPriceFileBytes >> 20)
           << " MiB; split it\n";
      return kExitUsage;
    }
    in.seekg(0);
    std::stringstream text;
    text << in.rdbuf();
    pb::AwsSpotPriceHistory history;
    google::protobuf::util::JsonParseOptions parse;
    parse.ignore_unknown_fields = true;  // AWS may add fields
    if (const auto s = google::protobuf::util::JsonStringToMessage(text.str(), &history, parse);
        !s.ok()) {
      err_ << "shadowctl: " << path
           << " is not the JSON `aws ec2 describe-spot-price-history` prints: " << s.message()
           << "\n";
      return kExitUsage;
    }
    if (history.spot_price_history_size() == 0) {
      err_ << "shadowctl: " << path << " has no SpotPriceHistory entries\n";
      return kExitUsage;
    }
    pb::ReportPricesRequest request;
    *request.mutable_aws_spot_prices() = history.spot_price_history();
    request.set_source("aws-spot-price-history");
    pb::ReportPricesResponse response;
    grpc::Status status = locations_->ReportPrices(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    out_ << "imported " << history.spot_price_history_size() << " entries as "
         << response.recorded() << " price observations for " << response.locations_size()
         << " locations\n";
    return kExitOk;
  }

  // Warns that spot capacity at the location (or only --instances there) goes away after
  // --deadline (default: the server's --spot_warning).
  int Interrupt(const std::string& location) {
    pb::ReportSpotInterruptionRequest request;
    request.set_location(location);
    for (const std::string& id : options_.instances) request.add_instance_ids(id);
    request.set_reason(options_.reason);
    if (!options_.deadline.empty()) {
      absl::Duration in;
      if (!absl::ParseDuration(options_.deadline, &in)) {
        err_ << "shadowctl: --deadline takes a duration such as 2m or 30s, got \""
             << options_.deadline << "\"\n";
        return kExitUsage;
      }
      *request.mutable_deadline() = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
          absl::ToUnixNanos(absl::Now() + in));
    }
    pb::SpotInterruption response;
    grpc::Status status = locations_->ReportSpotInterruption(Context().get(), request, &response);
    if (!status.ok()) return Fail(status);
    if (options_.json) return Json(response), kExitOk;
    out_ << "spot interruption " << response.id() << " at " << response.location()
         << (response.deadline_passed() ? " (deadline already passed: treated as lost)" : "")
         << "\n";
    Table table({"instance", "role", "outcome", "migration", "detail"});
    for (const pb::SpotFallback& f : response.fallbacks()) {
      table.AddRow({f.instance_id(), f.role(), f.outcome(), f.migration_id(), f.detail()});
    }
    out_ << table.Render();
    return kExitOk;
  }
};

}  // namespace

void AddSpotCommands(CommandTable* table) {
  table->push_back({{"prices", "import"},
                    {"FILE"},
                    "",
                    "record `aws ec2 describe-spot-price-history` output as location prices",
                    CallWith<SpotCommands, &SpotCommands::ImportPrices>});
  table->push_back({{"spot", "interrupt"},
                    {"LOCATION"},
                    "[--deadline=2m] [--instances=ID,...] [--reason=TEXT]",
                    "spot capacity there goes away: fall back to on-demand before the deadline",
                    CallWith<SpotCommands, &SpotCommands::Interrupt>});
}

}  // namespace shadowplane::cli
