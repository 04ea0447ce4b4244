#include "common/config.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "yaml-cpp/yaml.h"

namespace shadowplane {
namespace {

std::vector<absl::CommandLineFlag*> OwnedFlags(const ConfigOptions& options) {
  std::vector<absl::CommandLineFlag*> flags;
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->IsRetired()) continue;
    const bool owned = options.owns_flag ? options.owns_flag(*flag)
                                         : !absl::StrContains(flag->Filename(), "absl/");
    if (owned) flags.push_back(flag);
  }
  std::sort(flags.begin(), flags.end(),
            [](const auto* a, const auto* b) { return a->Name() < b->Name(); });
  return flags;
}

std::string EnvName(const ConfigOptions& options, absl::string_view flag) {
  return options.env_prefix + absl::AsciiStrToUpper(flag);
}

std::optional<std::string> GetEnv(const ConfigOptions& options, const std::string& name) {
  if (options.getenv) return options.getenv(name);
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

absl::CommandLineFlag* FindOwned(const std::vector<absl::CommandLineFlag*>& flags,
                                 absl::string_view name) {
  for (auto* flag : flags) {
    if (flag->Name() == name) return flag;
  }
  return nullptr;
}

// Command-line values by flag name, in the order given (a later repeat wins).
absl::Status ParseArgs(const ConfigOptions& options,
                       const std::vector<absl::CommandLineFlag*>& flags, int argc,
                       const char* const* argv,
                       std::vector<std::pair<std::string, std::string>>* values,
                       std::vector<std::string>* positional) {
  bool only_positional = false;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional->emplace_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    arg.remove_prefix(arg[1] == '-' ? 2 : 1);
    absl::string_view name = arg;
    std::optional<std::string> value;
    if (const size_t eq = arg.find('='); eq != absl::string_view::npos) {
      name = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    }
    absl::CommandLineFlag* flag = FindOwned(flags, name);
    if (flag == nullptr && !value.has_value() && absl::StartsWith(name, "no")) {
      absl::CommandLineFlag* negated = FindOwned(flags, name.substr(2));
      if (negated != nullptr && negated->IsOfType<bool>()) {
        values->emplace_back(std::string(negated->Name()), "false");
        continue;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " (", options.program, " --help lists them)"));
    }
    if (!value.has_value()) {
      if (flag->IsOfType<bool>()) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      }
    }
    values->emplace_back(std::string(flag->Name()), *std::move(value));
  }
  if (!positional->empty() && !options.allow_positional) {
    return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", positional->front(),
                                                   "'; flags look like --name=value"));
  }
  return absl::OkStatus();
}

absl::Status ReadYamlFile(const std::string& path, const std::vector<absl::CommandLineFlag*>& flags,
                          const ConfigOptions& options,
                          std::vector<std::pair<std::string, std::string>>* values) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, " cannot be read (missing or not permitted)"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": ", e.what()));
  }
  if (root.IsNull()) return absl::OkStatus();  // an empty file sets nothing
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat("config file ", path, " must be a mapping of flag names to values"));
  }
  for (const auto& item : root) {
    const std::string key = item.first.as<std::string>("");
    absl::CommandLineFlag* flag = FindOwned(flags, key);
    if (flag == nullptr || key == options.config_flag) {
      return absl::InvalidArgumentError(absl::StrCat("config file ", path, ": unknown key '", key,
                                                     "' (", options.program,
                                                     " --help lists them)"));
    }
    if (!item.second.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat("config file ", path, ": key '", key, "' must have a single value"));
    }
    values->emplace_back(key, item.second.Scalar());
  }
  return absl::OkStatus();
}

absl::Status Apply(absl::CommandLineFlag* flag, const std::string& value,
                   const std::string& origin) {
  std::string error;
  if (!flag->ParseFrom(value, &error)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid value '", value, "' for --",
                                                   flag->Name(), " (from ", origin, "): ", error));
  }
  return absl::OkStatus();
}

}  // namespace

const char* ConfigSourceName(ConfigSource source) {
  switch (source) {
    case ConfigSource::kDefault:
      return "default";
    case ConfigSource::kFile:
      return "file";
    case ConfigSource::kEnvironment:
      return "environment";
    case ConfigSource::kCommandLine:
      return "command line";
  }
  return "default";
}

bool WantsHelp(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const absl::string_view arg = argv[i];
    if (arg == "--") return false;
    if (arg == "--help" || arg == "-help" || arg == "-h" || arg == "--helpfull") return true;
  }
  return false;
}

std::string HelpText(const ConfigOptions& options) {
  std::string text = absl::StrCat(options.program, ": ", options.description, "\n\n");
  absl::StrAppend(&text,
                  "Each flag can also be set by the environment variable shown, or by a key of\n",
                  "the same name in the YAML file given by --", options.config_flag,
                  ". Precedence: command line > environment > file > default.\n\nFlags:\n");
  for (const auto* flag : OwnedFlags(options)) {
    const std::string def = flag->DefaultValue();
    absl::StrAppend(&text, "  --", flag->Name(), "=", def.empty() ? "\"\"" : def, "\n      ",
                    flag->Help(), "\n      env: ", EnvName(options, flag->Name()), "\n");
  }
  return text;
}

absl::Status LoadConfig(const ConfigOptions& options, int argc, const char* const* argv,
                        LoadedConfig* loaded) {
  const std::vector<absl::CommandLineFlag*> flags = OwnedFlags(options);
  std::vector<std::pair<std::string, std::string>> args;
  loaded->positional.clear();
  if (absl::Status s = ParseArgs(options, flags, argc, argv, &args, &loaded->positional); !s.ok()) {
    return s;
  }
  std::map<std::string, ConfigSource> sources;

  // The config file's path: command line, else environment, else the flag's default.
  std::string config_path;
  if (absl::CommandLineFlag* config = FindOwned(flags, options.config_flag); config != nullptr) {
    config_path = config->CurrentValue();
    if (auto env = GetEnv(options, EnvName(options, options.config_flag)); env.has_value()) {
      config_path = *env;
    }
    for (const auto& [name, value] : args) {
      if (name == options.config_flag) config_path = value;
    }
  }
  if (!config_path.empty()) {
    std::vector<std::pair<std::string, std::string>> file_values;
    if (absl::Status s = ReadYamlFile(config_path, flags, options, &file_values); !s.ok()) return s;
    for (const auto& [name, value] : file_values) {
      if (absl::Status s =
              Apply(FindOwned(flags, name), value, absl::StrCat("config file ", config_path));
          !s.ok()) {
        return s;
      }
      sources[name] = ConfigSource::kFile;
    }
  }
  for (auto* flag : flags) {
    const std::string var = EnvName(options, flag->Name());
    if (auto env = GetEnv(options, var); env.has_value()) {
      if (absl::Status s = Apply(flag, *env, var); !s.ok()) return s;
      sources[std::string(flag->Name())] = ConfigSource::kEnvironment;
    }
  }
  for (const auto& [name, value] : args) {
    if (absl::Status s = Apply(FindOwned(flags, name), value, "command line"); !s.ok()) return s;
    sources[name] = ConfigSource::kCommandLine;
  }

  loaded->entries.clear();
  for (auto* flag : flags) {
    const std::string name(flag->Name());
    const auto it = sources.find(name);
    loaded->entries.push_back(
        {name, flag->CurrentValue(), it == sources.end() ? ConfigSource::kDefault : it->second});
  }
  return absl::OkStatus();
}

std::string MaskSecrets(absl::string_view value) {
  std::string out(value);
  const std::string kMask = "****";
  // scheme://user:password@host: the password ends at the last '@' before the path.
  if (size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t start = scheme + 3;
    const size_t end_of_authority = out.find_first_of("/?#", start);
    const size_t at = out.rfind(
        '@', end_of_authority == std::string::npos ? std::string::npos : end_of_authority);
    if (at != std::string::npos && at > start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, kMask);
    }
  }
  // password=... as a keyword (space-separated, possibly quoted) or a URL query parameter.
  for (size_t pos = 0; (pos = out.find("password=", pos)) != std::string::npos;) {
    const bool keyword = pos == 0 || out[pos - 1] == ' ' || out[pos - 1] == '?' ||
                         out[pos - 1] == '&' || out[pos - 1] == '\t';
    size_t start = pos + 9;
    if (!keyword) {
      pos = start;
      continue;
    }
    size_t end;
    if (start < out.size() && out[start] == '\'') {
      end = start + 1;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      end = out.find_first_of(" &#\t", start);
      if (end == std::string::npos) end = out.size();
    }
    out.replace(start, end - start, kMask);
    pos = start + kMask.size();
  }
  return out;
}

absl::Status CheckSecretPlacement(const LoadedConfig& loaded, const std::string& config_path) {
  for (const ConfigEntry& e : loaded.entries) {
    if (MaskSecrets(e.value) == e.value) continue;
    if (e.source == ConfigSource::kCommandLine) {
      return absl::FailedPreconditionError(absl::StrCat(
          "--", e.name,
          " holds a password on the command line, where every user of this machine can read "
          "it: give it in the environment (",
          absl::AsciiStrToUpper(absl::StrCat("SHADOWPLANE_", e.name)),
          "), in a --config file only its owner can read, or (--database_url) with "
          "--database_password_file"));
    }
    if (e.source == ConfigSource::kFile) {
      struct stat st;
      if (stat(config_path.c_str(), &st) != 0 || (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
        return absl::FailedPreconditionError(
            absl::StrCat("--config ", config_path, " holds a password (", e.name,
                         ") and others may read it: chmod o-rw ", config_path));
      }
    }
  }
  return absl::OkStatus();
}

std::string FormatConfig(const LoadedConfig& loaded) {
  std::string text;
  for (const ConfigEntry& e : loaded.entries) {
    absl::StrAppend(&text, e.name, " = ", MaskSecrets(e.value), "  (", ConfigSourceName(e.source),
                    ")\n");
  }
  return text;
}

}  // namespace shadowplane
