#include "cli/shadowctl.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/command.h"

namespace shadowplane::cli {

namespace {

constexpr size_t kSummaryColumn = 37;
constexpr size_t kWidth = 100;

// `text` in lines of at most kWidth columns, each indented to `indent`; the first line starts at
// column `at`.
std::string Wrap(const std::string& text, size_t indent, size_t at) {
  std::string out;
  size_t column = at;
  for (absl::string_view word : absl::StrSplit(text, ' ', absl::SkipEmpty())) {
    if (column > indent && column + 1 + word.size() > kWidth) {
      absl::StrAppend(&out, "\n", std::string(indent, ' '));
      column = indent;
    } else if (column > indent) {
      out += ' ';
      ++column;
    } else if (column < indent) {
      out += std::string(indent - column, ' ');
      column = indent;
    }
    absl::StrAppend(&out, word);
    column += word.size();
  }
  return out;
}

}  // namespace

const CommandTable& Commands() {
  static const CommandTable* const kCommands = [] {
    auto* table = new CommandTable();
    AddLocationCommands(table);
    AddReservationCommands(table);
    AddSyncCommands(table);
    AddForecastCommands(table);
    AddEventCommands(table);
    AddAuditCommands(table);
    AddMigrationCommands(table);
    AddPlannerCommands(table);
    AddSpotCommands(table);
    AddLoadgenCommands(table);
    AddTopCommands(table);
    return table;
  }();
  return *kCommands;
}

std::string ShadowctlUsage() {
  std::string usage = "usage: shadowctl [--server=HOST:PORT] [--json] COMMAND\n\n";
  for (const Command& c : Commands()) {
    std::string synopsis = absl::StrCat("  ", absl::StrJoin(c.words, " "));
    for (const std::string& operand : c.operands) absl::StrAppend(&synopsis, " ", operand);
    const size_t name_width = synopsis.size() + 1;
    if (!c.flags.empty()) synopsis += Wrap(c.flags, name_width, synopsis.size());
    const size_t last_line = synopsis.size() - std::min(synopsis.size(), synopsis.rfind('\n') + 1);
    if (last_line + 1 < kSummaryColumn && synopsis.find('\n') == std::string::npos) {
      absl::StrAppend(&usage, synopsis, Wrap(c.summary, kSummaryColumn, synopsis.size()), "\n");
    } else {
      absl::StrAppend(&usage, synopsis, "\n", Wrap(c.summary, kSummaryColumn, 0), "\n");
    }
  }
  usage +=
      "\n--server defaults to 127.0.0.1:50051 (environment: SHADOWPLANE_SERVER). Exit codes: 0 "
      "done,\n1 the server refused or could not be reached (the status is printed), 2 bad usage.\n";
  return usage;
}

int RunShadowctl(const std::vector<std::string>& words, const ShadowctlOptions& options,
                 std::ostream& out, std::ostream& err) {
  for (const Command& c : Commands()) {
    if (words.size() != c.words.size() + c.operands.size() ||
        !std::equal(c.words.begin(), c.words.end(), words.begin())) {
      continue;
    }
    const std::vector<std::string> operands(words.begin() + c.words.size(), words.end());
    return c.run(CommandContext(options, out, err), operands);
  }
  if (!words.empty()) err << "shadowctl: unknown command " << absl::StrJoin(words, " ") << "\n\n";
  err << ShadowctlUsage();
  return kExitUsage;
}

}  // namespace shadowplane::cli
