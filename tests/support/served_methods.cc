#include "support/served_methods.h"

#include <filesystem>
#include <fstream>
#include <regex>
#include <vector>

#include "absl/strings/str_cat.h"

namespace shadowplane::testing {

namespace fs = std::filesystem;

std::set<std::string> ServedMethods(const std::string& source_dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_dir + "/proto/shadowplane/v1")) {
    if (e.path().extension() == ".proto") files.push_back(e.path());
  }
  files.push_back(source_dir + "/proto/shadowplane/agent/v1/write_lease.proto");
  std::set<std::string> out;
  static const std::regex kPackage("^package ([a-z0-9_.]+);");
  static const std::regex kService("^service ([A-Za-z0-9_]+)");
  static const std::regex kRpc("^\\s*rpc ([A-Za-z0-9_]+)\\s*\\(");
  for (const fs::path& file : files) {
    std::ifstream in(file);
    std::string package, service;
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (std::regex_search(line, m, kPackage)) package = m[1];
      if (std::regex_search(line, m, kService)) service = m[1];
      if (std::regex_search(line, m, kRpc)) {
        out.insert(absl::StrCat("/", package, ".", service, "/", m[1].str()));
      }
    }
  }
  for (const char* m : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
    out.insert(m);
  }
  return out;
}

}  // namespace shadowplane::testing
