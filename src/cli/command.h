// shadowctl's command table: each command's words, operands, flags and one-line summary, and what
// runs it. The dispatcher (cli/shadowctl.cc) matches words and operand counts against the table,
// and the usage text is generated from it, so a new command is one entry in its group's file.
#ifndef SHADOWPLANE_CLI_COMMAND_H_
#define SHADOWPLANE_CLI_COMMAND_H_

#include <functional>
#include <string>
#include <vector>

#include "cli/command_context.h"

namespace shadowplane::cli {

struct Command {
  std::vector<std::string> words;     // e.g. {"migrations", "get"}
  std::vector<std::string> operands;  // names of the words that follow, e.g. {"ID"}
  std::string flags;                  // its flags, as usage shows them
  std::string summary;
  // Runs it with the operands; the exit code.
  std::function<int(const CommandContext&, const std::vector<std::string>&)> run;
};

using CommandTable = std::vector<Command>;

// What a table entry runs: a command group's method, on a group made for the call, without
// operands or with the first.
template <typename Group, int (Group::*Method)()>
int Call(const CommandContext& context, const std::vector<std::string>&) {
  return (Group(context).*Method)();
}
template <typename Group, int (Group::*Method)(const std::string&)>
int CallWith(const CommandContext& context, const std::vector<std::string>& operands) {
  return (Group(context).*Method)(operands[0]);
}

// One per command group, each in its own file.
void AddLocationCommands(CommandTable* table);
void AddReservationCommands(CommandTable* table);
void AddSyncCommands(CommandTable* table);
void AddForecastCommands(CommandTable* table);
void AddEventCommands(CommandTable* table);
void AddAuditCommands(CommandTable* table);
void AddMigrationCommands(CommandTable* table);
void AddPlannerCommands(CommandTable* table);
void AddSpotCommands(CommandTable* table);
void AddLoadgenCommands(CommandTable* table);
void AddTopCommands(CommandTable* table);

// Every command, in the order usage lists them.
const CommandTable& Commands();

}  // namespace shadowplane::cli

#endif  // SHADOWPLANE_CLI_COMMAND_H_
