// Fuzzes the YAML loaders, each of which reads what an operator (or whoever can write the file)
// wrote: the server's --config file (common/config.h), the locations catalog
// (catalog/catalog.h), the tokens file (api/access/token_store.h), an instance's instance.yaml
// (instance/instance_config.h) and an evaluation configuration (evaluation/evaluation_config.h).
// Input: one selector byte, then the file. Each loader must refuse a bad file with a status,
// never crash or throw.
#include <cstdint>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "api/access/token_store.h"
#include "catalog/catalog.h"
#include "common/config.h"
#include "evaluation/evaluation_config.h"
#include "fuzz_input.h"
#include "instance/instance_config.h"

// Flags of every kind the server's settings use, for the --config file to set.
ABSL_FLAG(int, fuzz_int, 1, "an int");
ABSL_FLAG(int64_t, fuzz_int64, 1, "an int64");
ABSL_FLAG(double, fuzz_double, 0.5, "a double");
ABSL_FLAG(bool, fuzz_bool, false, "a bool");
ABSL_FLAG(std::string, fuzz_string, "", "a string");
ABSL_FLAG(absl::Duration, fuzz_duration, absl::Seconds(1), "a duration");
ABSL_FLAG(std::vector<std::string>, fuzz_list, {}, "a list");
ABSL_FLAG(std::string, config, "", "the file");

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string yaml(reinterpret_cast<const char*>(data + 1), size - 1);
  shadowplane::fuzz::MemoryFile file(yaml);
  switch (data[0] % 5) {
    case 0: {
      shadowplane::ConfigOptions options;
      options.program = "fuzz";
      options.getenv = [](const std::string&) { return std::optional<std::string>(); };
      options.owns_flag = [](const absl::CommandLineFlag& f) {
        return absl::StartsWith(f.Name(), "fuzz_") || f.Name() == "config";
      };
      const std::string arg = "--config=" + file.path();
      const char* argv[] = {"fuzz", arg.c_str()};
      shadowplane::LoadedConfig loaded;
      (void)shadowplane::LoadConfig(options, 2, argv, &loaded);
      break;
    }
    case 1:
      (void)shadowplane::catalog::LoadCatalogFile(file.path());
      break;
    case 2:
      (void)shadowplane::api::access::ParseTokens(yaml);
      break;
    case 3:
      (void)shadowplane::instance::LoadInstanceConfig(file.path());
      break;
    case 4:
      (void)shadowplane::evaluation::ParseEvaluationConfig(yaml, "fuzz.yaml");
      break;
  }
  return 0;
}
