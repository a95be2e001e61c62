#include "config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace lms::core {
namespace {

std::optional<Config> load(std::vector<const char*> args, std::string* error) {
  args.insert(args.begin(), "lms");
  const auto cl = parse_command_line(static_cast<int>(args.size()), args.data(), error);
  if (!cl) return std::nullopt;
  return load_config(*cl, error);
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"LMS_READ_CONFIG_FILE", "LMS_SHADOW_MODE", "LMS_LOGGING"}) unsetenv(v);
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ConfigTest, FlagsGiveEverythingAndDefaultsFillTheRest) {
  std::string error;
  const auto c = load({"--source-dialect", "postgres", "--source", "postgresql://u@h/db",
                       "--listen=127.0.0.1:7000", "--workers", "3"},
                      &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->listen.host, "127.0.0.1");
  EXPECT_EQ(c->listen.port, 7000);
  EXPECT_EQ(c->http_listen.port, 9044);
  EXPECT_EQ(c->workers, 3u);
  EXPECT_EQ(c->shadow_mode, "none");
  EXPECT_EQ(c->auth_method, "scram-sha-256");
}

TEST_F(ConfigTest, MissingRequiredSettingIsNamed) {
  std::string error;
  EXPECT_FALSE(load({"--source-dialect", "postgres"}, &error));
  EXPECT_NE(error.find("missing required setting 'source'"), std::string::npos) << error;
}

TEST_F(ConfigTest, WrongValuesNameTheKeyAndWhereTheyCameFrom) {
  std::string error;
  EXPECT_FALSE(load({"--source-dialect", "oracle", "--source", "x"}, &error));
  EXPECT_EQ(
      error,
      "invalid source-dialect from flag --source-dialect: 'oracle' is not postgres, cockroach or mysql");
  EXPECT_FALSE(load({"--source-dialect", "postgres", "--source", "x", "--listen", "nowhere"}, &error));
  EXPECT_NE(error.find("invalid listen from flag --listen"), std::string::npos) << error;
  EXPECT_FALSE(load({"--source-dialect", "postgres", "--source", "x", "--workers", "-1"}, &error));
  EXPECT_NE(error.find("invalid workers"), std::string::npos);
  EXPECT_FALSE(load({"--source-dialect", "postgres", "--source", "x", "--shadow-mode", "async"}, &error));
  EXPECT_NE(error.find("needs a target connection string"), std::string::npos);
  EXPECT_FALSE(load({"--nonsense", "1"}, &error));
  EXPECT_EQ(error, "unknown flag --nonsense (see --help)");
  EXPECT_FALSE(load({"--source"}, &error));
  EXPECT_EQ(error, "flag --source needs a value");
}

TEST_F(ConfigTest, KeepingUnnamedStatementsIsASwitchOfTransactionPooling) {
  std::string error;
  const std::vector<const char*> pooled = {"--source-dialect", "postgres",    "--source",           "x",
                                           "--pool-mode",      "transaction", "--server-pool-size", "4"};
  auto args = pooled;
  auto c = load(args, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_FALSE(c->pool_cache_unnamed);
  args.push_back("--pool-cache-unnamed");
  c = load(args, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_TRUE(c->pool_cache_unnamed);
  args = pooled;
  args.push_back("--pool-cache-unnamed=sometimes");
  EXPECT_FALSE(load(args, &error));
  EXPECT_NE(error.find("invalid pool-cache-unnamed"), std::string::npos) << error;
  EXPECT_FALSE(load({"--source-dialect", "postgres", "--source", "x", "--pool-cache-unnamed"}, &error));
  EXPECT_NE(error.find("applies to pool-mode transaction only"), std::string::npos) << error;
}

TEST_F(ConfigTest, TomlFileWithFlagsWinning) {
  const auto path = write_file("lms.toml",
                               "source-dialect = \"cockroach\"\nsource = \"postgresql://u@h/db\"\n"
                               "workers = 2\nlisten = \"127.0.0.1:7001\"\n");
  std::string error;
  const auto c = load({"--config", path.c_str(), "--workers", "5"}, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->source_dialect, "cockroach");
  EXPECT_EQ(c->listen.port, 7001);
  EXPECT_EQ(c->workers, 5u);
}

TEST_F(ConfigTest, TomlErrorsNameTheFileAndKey) {
  std::string error;
  const auto unknown = write_file("unknown.toml", "sauce = \"x\"\n");
  EXPECT_FALSE(load({"--config", unknown.c_str()}, &error));
  EXPECT_EQ(error, "config file " + unknown + ": unknown key 'sauce'");
  const auto broken = write_file("broken.toml", "source = \n");
  EXPECT_FALSE(load({"--config", broken.c_str()}, &error));
  EXPECT_NE(error.find("config file " + broken), std::string::npos);
  EXPECT_NE(error.find("line 1"), std::string::npos);
  const auto bad_value =
      write_file("bad.toml", "source-dialect = \"postgres\"\nsource = \"x\"\nworkers = \"many\"\n");
  EXPECT_FALSE(load({"--config", bad_value.c_str()}, &error));
  EXPECT_NE(error.find("invalid workers from config file"), std::string::npos) << error;
}

TEST_F(ConfigTest, DeploymentEnvironment) {
  const auto json = write_file(
      "config.json", R"({"INIT_SOURCE": "postgresql://a@src/db", "INIT_TARGET": "postgresql://b@dst/db"})");
  setenv("LMS_READ_CONFIG_FILE", json.c_str(), 1);
  setenv("LMS_SHADOW_MODE", "none", 1);
  setenv("LMS_LOGGING", "debug", 1);
  std::string error;
  const auto c = load({"--source-dialect", "postgres"}, &error);
  ASSERT_TRUE(c) << error;
  EXPECT_EQ(c->source, "postgresql://a@src/db");
  EXPECT_EQ(c->target, "postgresql://b@dst/db");
  EXPECT_EQ(c->log_level, "debug");
  // A flag still wins over the environment.
  const auto flagged = load({"--source-dialect", "postgres", "--log-level", "warn"}, &error);
  ASSERT_TRUE(flagged) << error;
  EXPECT_EQ(flagged->log_level, "warn");
}

TEST_F(ConfigTest, DeploymentFileErrors) {
  std::string error;
  setenv("LMS_READ_CONFIG_FILE", "/nonexistent/config.json", 1);
  EXPECT_FALSE(load({"--source-dialect", "postgres"}, &error));
  EXPECT_EQ(error, "LMS_READ_CONFIG_FILE: cannot read /nonexistent/config.json");
  const auto json = write_file("bad.json", R"({"INIT_SOURCE": 5})");
  setenv("LMS_READ_CONFIG_FILE", json.c_str(), 1);
  EXPECT_FALSE(load({"--source-dialect", "postgres"}, &error));
  EXPECT_EQ(error, "LMS_READ_CONFIG_FILE: INIT_SOURCE must be a string");
}

TEST_F(ConfigTest, UsageListsEverySetting) {
  const std::string text = usage();
  for (const auto& s : settings())
    EXPECT_NE(text.find(std::string("--") + s.name), std::string::npos) << s.name;
}

// Every flag's text starts in one column, after at least two spaces (never glued to a long name),
// and long texts wrap into that column within 100 characters a line.
TEST_F(ConfigTest, UsageAlignsEveryFlagsText) {
  std::istringstream lines(usage());
  std::string line;
  size_t column = 0;
  size_t flags = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line.rfind("usage:", 0) == 0) continue;
    EXPECT_LE(line.size(), 100u) << line;
    if (line.rfind("  --", 0) == 0) {
      const size_t name_end = line.find(' ', 4);
      ASSERT_NE(name_end, std::string::npos) << line;
      const size_t text = line.find_first_not_of(' ', name_end);
      EXPECT_GE(text - name_end, 2u) << line;
      if (column == 0) column = text;
      EXPECT_EQ(text, column) << line;
      ++flags;
    } else if (flags > 0 && line[0] == ' ') {
      EXPECT_EQ(line.find_first_not_of(' '), column) << "a wrapped line out of its column: " << line;
    }
  }
  EXPECT_EQ(flags, settings().size());
}

}  // namespace
}  // namespace lms::core
