#include "common/config.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/strings/match.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, ct_listen, "127.0.0.1:1", "listen address");
ABSL_FLAG(int, ct_workers, 4, "worker count");
ABSL_FLAG(bool, ct_verbose, false, "talk more");
ABSL_FLAG(double, ct_scale, 1.0, "a scale");
ABSL_FLAG(std::string, ct_config, "", "config file");

namespace shadowplane {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  ConfigOptions Options() {
    ConfigOptions options;
    options.program = "config_test";
    options.description = "test";
    options.config_flag = "ct_config";
    options.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    options.owns_flag = [](const absl::CommandLineFlag& flag) {
      return absl::StartsWith(flag.Name(), "ct_");
    };
    return options;
  }

  absl::Status Load(std::vector<std::string> args) {
    args.insert(args.begin(), "config_test");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    return LoadConfig(Options(), static_cast<int>(argv.size()), argv.data(), &loaded_);
  }

  std::string WriteFile(const std::string& text) {
    char path[] = "/tmp/config_test-XXXXXX";
    const int fd = mkstemp(path);
    close(fd);
    std::ofstream(path) << text;
    files_.push_back(path);
    return path;
  }

  ConfigSource SourceOf(const std::string& name) {
    for (const auto& e : loaded_.entries) {
      if (e.name == name) return e.source;
    }
    ADD_FAILURE() << "no entry " << name;
    return ConfigSource::kDefault;
  }

  void TearDown() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }

  absl::FlagSaver saver_;  // every test starts from the defaults
  std::map<std::string, std::string> env_;
  std::vector<std::string> files_;
  LoadedConfig loaded_;
};

TEST_F(ConfigTest, DefaultsWhenNothingIsGiven) {
  ASSERT_TRUE(Load({}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_workers), 4);
  EXPECT_EQ(SourceOf("ct_workers"), ConfigSource::kDefault);
}

TEST_F(ConfigTest, PrecedenceIsFlagThenEnvironmentThenFileThenDefault) {
  const std::string file = WriteFile("ct_listen: file:1\nct_workers: 7\nct_scale: 3.5\n");
  env_["SHADOWPLANE_CT_CONFIG"] = file;
  env_["SHADOWPLANE_CT_WORKERS"] = "9";
  env_["SHADOWPLANE_CT_LISTEN"] = "env:1";
  ASSERT_TRUE(Load({"--ct_listen=flag:1"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_listen), "flag:1");  // flag beats env and file
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_workers), 9);        // env beats file
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_scale), 3.5);        // file beats default
  EXPECT_FALSE(absl::GetFlag(FLAGS_ct_verbose));        // default
  EXPECT_EQ(SourceOf("ct_listen"), ConfigSource::kCommandLine);
  EXPECT_EQ(SourceOf("ct_workers"), ConfigSource::kEnvironment);
  EXPECT_EQ(SourceOf("ct_scale"), ConfigSource::kFile);
  EXPECT_EQ(SourceOf("ct_verbose"), ConfigSource::kDefault);
  EXPECT_NE(FormatConfig(loaded_).find("ct_workers = 9  (environment)"), std::string::npos);
}

TEST_F(ConfigTest, ConfigPathFromTheCommandLineBeatsTheEnvironment) {
  const std::string env_file = WriteFile("ct_workers: 1\n");
  const std::string flag_file = WriteFile("ct_workers: 2\n");
  env_["SHADOWPLANE_CT_CONFIG"] = env_file;
  ASSERT_TRUE(Load({"--ct_config", flag_file}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_workers), 2);
}

TEST_F(ConfigTest, FlagSyntaxes) {
  ASSERT_TRUE(Load({"--ct_workers", "5", "-ct_verbose", "--ct_scale=0.5"}).ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_workers), 5);
  EXPECT_TRUE(absl::GetFlag(FLAGS_ct_verbose));
  EXPECT_EQ(absl::GetFlag(FLAGS_ct_scale), 0.5);
  ASSERT_TRUE(Load({"--noct_verbose"}).ok());
  EXPECT_FALSE(absl::GetFlag(FLAGS_ct_verbose));
}

TEST_F(ConfigTest, UnknownFlagIsNamed) {
  absl::Status s = Load({"--ct_nope=1"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("unknown flag --ct_nope"), std::string::npos) << s;
}

TEST_F(ConfigTest, MalformedValuesNameFlagAndSource) {
  absl::Status s = Load({"--ct_workers=many"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("--ct_workers"), std::string::npos) << s;
  EXPECT_NE(s.message().find("command line"), std::string::npos) << s;

  env_["SHADOWPLANE_CT_SCALE"] = "fast";
  s = Load({});
  EXPECT_NE(s.message().find("SHADOWPLANE_CT_SCALE"), std::string::npos) << s;
  env_.clear();

  const std::string file = WriteFile("ct_verbose: perhaps\n");
  s = Load({"--ct_config=" + file});
  EXPECT_NE(s.message().find("--ct_verbose"), std::string::npos) << s;
  EXPECT_NE(s.message().find(file), std::string::npos) << s;
}

TEST_F(ConfigTest, MissingValueIsAnError) {
  absl::Status s = Load({"--ct_workers"});
  EXPECT_NE(s.message().find("needs a value"), std::string::npos) << s;
}

TEST_F(ConfigTest, PositionalArgumentsAreRejected) {
  absl::Status s = Load({"stray"});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("stray"), std::string::npos) << s;
}

TEST_F(ConfigTest, BadFilesAreNamed) {
  absl::Status s = Load({"--ct_config=/nonexistent/shadowplane.yaml"});
  EXPECT_NE(s.message().find("/nonexistent/shadowplane.yaml"), std::string::npos) << s;

  const std::string unknown = WriteFile("ct_workers: 2\nworkerz: 3\n");
  s = Load({"--ct_config=" + unknown});
  EXPECT_NE(s.message().find("unknown key 'workerz'"), std::string::npos) << s;

  const std::string nested = WriteFile("ct_workers: [1, 2]\n");
  s = Load({"--ct_config=" + nested});
  EXPECT_NE(s.message().find("ct_workers"), std::string::npos) << s;

  const std::string not_a_map = WriteFile("- a\n- b\n");
  s = Load({"--ct_config=" + not_a_map});
  EXPECT_NE(s.message().find("mapping"), std::string::npos) << s;

  const std::string broken = WriteFile("ct_workers: [1\n");
  s = Load({"--ct_config=" + broken});
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ConfigTest, EmptyFileSetsNothing) {
  const std::string empty = WriteFile("");
  ASSERT_TRUE(Load({"--ct_config=" + empty}).ok());
  EXPECT_EQ(SourceOf("ct_workers"), ConfigSource::kDefault);
}

TEST_F(ConfigTest, HelpListsFlagsWithTheirVariables) {
  const std::string help = HelpText(Options());
  EXPECT_NE(help.find("--ct_workers=4"), std::string::npos) << help;
  EXPECT_NE(help.find("SHADOWPLANE_CT_WORKERS"), std::string::npos);
  EXPECT_NE(help.find("worker count"), std::string::npos);
  const char* help_argv[] = {"x", "--help"};
  EXPECT_TRUE(WantsHelp(2, help_argv));
  const char* plain_argv[] = {"x", "--ct_workers=1"};
  EXPECT_FALSE(WantsHelp(2, plain_argv));
}

TEST(MaskSecretsTest, PasswordsInUrlsAndConnectionStringsAreMasked) {
  EXPECT_EQ(MaskSecrets("postgresql://sp:s3cr%40t@db.example:5432/shadowplane"),
            "postgresql://sp:****@db.example:5432/shadowplane");
  EXPECT_EQ(MaskSecrets("postgres://sp:a@b@db/x?sslmode=require"),
            "postgres://sp:****@db/x?sslmode=require");
  EXPECT_EQ(MaskSecrets("postgresql://db/x?user=sp&password=hunter2&sslmode=require"),
            "postgresql://db/x?user=sp&password=****&sslmode=require");
  EXPECT_EQ(MaskSecrets("host=db user=sp password=hunter2 dbname=x"),
            "host=db user=sp password=**** dbname=x");
  EXPECT_EQ(MaskSecrets("host=db password='it\\'s a secret' dbname=x"),
            "host=db password=**** dbname=x");
  EXPECT_EQ(MaskSecrets("password=x"), "password=****");
}

TEST(MaskSecretsTest, ValuesWithoutPasswordsAreUnchanged) {
  for (const char* value :
       {"", "127.0.0.1:50051", "postgresql://sp@db/x", "postgresql://db:5432/x",
        "host=/tmp port=5433 user=sp", "/var/lib/shadowplane", "mypassword=not-a-keyword",
        "http://example.com/a:b@c"}) {
    EXPECT_EQ(MaskSecrets(value), value);
  }
}

}  // namespace
}  // namespace shadowplane
