// lms's configuration from hostile text: the first byte picks the source (command-line arguments
// separated by NUL bytes, a TOML config file, or the JSON secrets file the Helm chart mounts), the
// rest is its content. Every input ends in a Config or a clear error, never a crash.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "config.h"

namespace {

// One scratch file per fuzzing process: the parsers read files by path.
const std::string& scratch_path(const char* suffix) {
  static const std::string toml = "/tmp/lms-fuzz-config-" + std::to_string(getpid()) + ".toml";
  static const std::string json = "/tmp/lms-fuzz-config-" + std::to_string(getpid()) + ".json";
  return suffix[0] == 't' ? toml : json;
}

void write_file(const std::string& path, const uint8_t* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

void load(const lms::core::CommandLine& command_line) {
  std::string error;
  const auto config = lms::core::load_config(command_line, &error);
  if (!config && error.empty()) __builtin_trap();  // a refusal always says why
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t source = data[0] % 3;
  ++data;
  --size;
  if (source == 0) {
    std::vector<std::string> args{"lms"};
    std::string current;
    for (size_t i = 0; i < size; ++i) {
      if (data[i] == 0) {
        args.push_back(current);
        current.clear();
      } else {
        current += static_cast<char>(data[i]);
      }
    }
    args.push_back(current);
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::string error;
    const auto command_line = lms::core::parse_command_line(static_cast<int>(argv.size()), argv.data(), &error);
    if (!command_line) {
      if (error.empty()) __builtin_trap();
      return 0;
    }
    if (command_line->config_file) return 0;  // a path from the input: not a file to open
    load(*command_line);
  } else if (source == 1) {
    write_file(scratch_path("toml"), data, size);
    lms::core::CommandLine command_line;
    command_line.config_file = scratch_path("toml");
    command_line.values["source"] = "postgresql://app@127.0.0.1:5/db";
    load(command_line);
  } else {
    write_file(scratch_path("json"), data, size);
    setenv("LMS_READ_CONFIG_FILE", scratch_path("json").c_str(), 1);
    lms::core::CommandLine command_line;
    load(command_line);
    unsetenv("LMS_READ_CONFIG_FILE");
  }
  return 0;
}
