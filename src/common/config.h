// Process configuration from Abseil flags, each settable in three more places. Precedence:
//   command line (--name=value)  >  environment (SHADOWPLANE_NAME)  >  YAML file (--config)  >
//   the flag's default.
//
// The command line is parsed here rather than by absl::ParseCommandLine, which exits with status 1
// on --help and cannot tell which flags the command line set (needed for the precedence above).
// Not thread-safe: call once at start-up, before other threads read flags.
#ifndef SHADOWPLANE_COMMON_CONFIG_H_
#define SHADOWPLANE_COMMON_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/commandlineflag.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace shadowplane {

struct ConfigOptions {
  // Program name and a one-paragraph description, for --help.
  std::string program;
  std::string description;
  // Environment variables are env_prefix + the flag name in upper case.
  std::string env_prefix = "SHADOWPLANE_";
  // The flag naming the YAML file. Its own value comes from the command line or environment only.
  std::string config_flag = "config";
  // Whether bare arguments (not flags) are accepted; if not, one is an error.
  bool allow_positional = false;
  // Looks up an environment variable; defaults to getenv. Tests substitute their own.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  // Which registered flags belong to the program; defaults to every flag not defined by Abseil.
  std::function<bool(const absl::CommandLineFlag&)> owns_flag;
};

// Where a flag's effective value came from.
enum class ConfigSource { kDefault, kFile, kEnvironment, kCommandLine };
const char* ConfigSourceName(ConfigSource source);

struct ConfigEntry {
  std::string name;
  std::string value;
  ConfigSource source;
};

struct LoadedConfig {
  std::vector<ConfigEntry> entries;  // sorted by name
  std::vector<std::string> positional;
};

// True if the command line asks for help (--help, -h, --helpfull).
bool WantsHelp(int argc, const char* const* argv);

// Usage text listing every flag with its default, environment variable and help.
std::string HelpText(const ConfigOptions& options);

// Applies the file, environment and command line to the flags, in that order. Returns
// INVALID_ARGUMENT naming the flag (or file key, or variable) and where it came from on an unknown
// flag, a malformed value or an unreadable file; flags may be partly set when it fails.
absl::Status LoadConfig(const ConfigOptions& options, int argc, const char* const* argv,
                        LoadedConfig* loaded);

// Refuses a secret (a value MaskSecrets changes: a password) given where other users can read
// it: on the command line (ps, /proc/PID/cmdline), or in a --config file `config_path` that others
// may read. FAILED_PRECONDITION naming the flag and where to put the secret instead; the secret
// itself never appears. The environment (SHADOWPLANE_*) and a private config file are fine.
absl::Status CheckSecretPlacement(const LoadedConfig& loaded, const std::string& config_path);

// "name = value  (source)" lines, for --print_config and start-up logs.
std::string FormatConfig(const LoadedConfig& loaded);

// `value` with any password replaced by "****": the user-info password of a URL
// (scheme://user:secret@host) and a "password=" keyword of a libpq connection string or URL
// query. What FormatConfig prints, so that --print_config never shows one.
std::string MaskSecrets(absl::string_view value);

}  // namespace shadowplane

#endif  // SHADOWPLANE_COMMON_CONFIG_H_
