// Loads plugins through the real loader: the shipped ones must load and answer sensibly; each
// fixture broken in one way must be refused with a message naming the file and the reason.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "plugin_loader.h"

namespace lms::core {
namespace {

std::string fixture(int n) { return std::string(LMS_FIXTURE_DIR) + "/fixture_" + std::to_string(n) + ".so"; }

std::string refusal(const std::string& path, lms_plugin_kind kind = LMS_PLUGIN_DIALECT) {
  std::string error;
  const auto plugin = load_plugin(path, kind, &error);
  EXPECT_FALSE(plugin.has_value()) << path;
  EXPECT_NE(error.find(path), std::string::npos) << error;
  return error;
}

TEST(Conformance, ShippedDialectsLoadAndSurviveEmptyInput) {
  for (const char* name : {"postgres", "cockroach"}) {
    std::string error;
    const auto plugin =
        load_plugin(plugin_path(LMS_PLUGIN_BUILD_DIR, LMS_PLUGIN_DIALECT, name), LMS_PLUGIN_DIALECT, &error);
    ASSERT_TRUE(plugin) << error;
    EXPECT_EQ(plugin->name(), name);
    const auto* f = plugin->dialect();
    EXPECT_EQ(f->default_port, std::string(name) == "postgres" ? 5432 : 26257);
    EXPECT_TRUE(has_probe(f));
    EXPECT_TRUE(has_encode_terminate(f));
    lms_frame frame{};
    frame.struct_size = sizeof frame;
    f->frame(LMS_FROM_CLIENT, nullptr, 0, &frame);
    EXPECT_EQ(frame.result, LMS_FRAME_NEED_MORE);
    void* front = f->front_create(nullptr, 0);
    ASSERT_NE(front, nullptr);
    size_t consumed = 1;
    lms_front_result result{};
    result.struct_size = sizeof result;
    lms_emitter sink{sizeof(lms_emitter), nullptr, [](void*, const uint8_t*, size_t) {}};
    EXPECT_EQ(f->front_step(front, nullptr, 0, &consumed, &sink, &result), LMS_HS_NEED_INPUT);
    EXPECT_EQ(consumed, 0u);
    f->front_destroy(front);
  }
}

struct Expected {
  const char* mode;
  bool busy;
  bool available;
  bool send;
  bool wait;
  uint32_t answer;
};

// The documented table of shadowing modes, decision by decision, through the real loader.
TEST(Conformance, ShippedShadowModesDecideAsDocumented) {
  const Expected table[] = {
      {"none", false, true, false, false, LMS_ANSWER_SOURCE},
      {"none", true, true, false, false, LMS_ANSWER_SOURCE},
      {"async", false, true, true, false, LMS_ANSWER_SOURCE},
      {"async", true, true, false, false, LMS_ANSWER_SOURCE},  // dropped: the target is busy
      {"async", false, false, false, false, LMS_ANSWER_SOURCE},
      {"sync", false, true, true, true, LMS_ANSWER_SOURCE},
      {"sync", true, true, true, true, LMS_ANSWER_SOURCE},
      {"sync", false, false, false, false, LMS_ANSWER_SOURCE},  // a dead target does not hold the source
      {"strict-sync", false, true, true, true, LMS_ANSWER_TARGET_ERROR_WINS},
      {"strict-sync", false, false, true, true, LMS_ANSWER_TARGET_ERROR_WINS},  // a dead target fails it
  };
  for (const Expected& e : table) {
    std::string error;
    const auto plugin =
        load_plugin(plugin_path(LMS_PLUGIN_BUILD_DIR, LMS_PLUGIN_SHADOW, e.mode), LMS_PLUGIN_SHADOW, &error);
    ASSERT_TRUE(plugin) << error;
    EXPECT_EQ(plugin->name(), e.mode);
    void* self = plugin->shadow()->create(nullptr, 0);
    ASSERT_NE(self, nullptr);
    lms_request_info request{};
    request.struct_size = sizeof request;
    request.msg_class = LMS_MSG_QUERY;
    request.target_busy = e.busy;
    request.target_available = e.available;
    lms_shadow_decision decision{};
    decision.struct_size = sizeof decision;
    plugin->shadow()->decide(self, &request, &decision);
    EXPECT_EQ(decision.send_to_target != 0, e.send) << e.mode << " busy=" << e.busy << " up=" << e.available;
    EXPECT_EQ(decision.wait_for_target != 0, e.wait) << e.mode;
    EXPECT_EQ(decision.answer, e.answer) << e.mode;
    plugin->shadow()->destroy(self);
  }
}

TEST(Conformance, DialectIsNotAShadow) {
  const auto error =
      refusal(plugin_path(LMS_PLUGIN_BUILD_DIR, LMS_PLUGIN_DIALECT, "postgres"), LMS_PLUGIN_SHADOW);
  EXPECT_NE(error.find("is a dialect plugin where a shadow plugin was expected"), std::string::npos);
}

TEST(Conformance, MissingFileIsRefused) {
  EXPECT_NE(refusal("/nonexistent/dialect_x.so").find("not found"), std::string::npos);
}

TEST(Conformance, CorruptFileIsRefused) {
  const std::string path = testing::TempDir() + "/dialect_corrupt.so";
  std::ofstream(path) << "this is not an ELF file";
  EXPECT_NE(refusal(path).find("cannot be loaded"), std::string::npos);
  std::filesystem::remove(path);
}

std::string host_abi() {
  return std::to_string(LMS_PLUGIN_ABI_MAJOR) + "." + std::to_string(LMS_PLUGIN_ABI_MINOR);
}

TEST(Conformance, OtherMajorIsRefusedNamingBothVersions) {
  const auto error = refusal(fixture(1));
  const std::string plugin_abi =
      std::to_string(LMS_PLUGIN_ABI_MAJOR + 1) + "." + std::to_string(LMS_PLUGIN_ABI_MINOR);
  EXPECT_NE(error.find("built for plugin ABI " + plugin_abi + ", this host speaks " + host_abi()),
            std::string::npos)
      << error;
}

// Minor versions only add at the ends of structs: a plugin of a newer minor is read as far as this
// host knows, not refused.
TEST(Conformance, NewerMinorLoadsAndIsReadAsFarAsTheHostKnows) {
  std::string error;
  const auto plugin = load_plugin(fixture(2), LMS_PLUGIN_DIALECT, &error);
  ASSERT_TRUE(plugin) << error;
  EXPECT_EQ(plugin->descriptor().abi_minor, LMS_PLUGIN_ABI_MINOR + 1);
  ASSERT_NE(plugin->dialect(), nullptr);
  EXPECT_NE(plugin->dialect()->frame, nullptr);
}

TEST(Conformance, MalformedDescriptorIsRefused) {
  EXPECT_NE(refusal(fixture(3)).find("malformed descriptor"), std::string::npos);
}

TEST(Conformance, SmallerFunctionTableLoadsWithOptionalFunctionsAbsent) {
  std::string error;
  const auto plugin = load_plugin(fixture(4), LMS_PLUGIN_DIALECT, &error);
  ASSERT_TRUE(plugin) << error;
  EXPECT_FALSE(has_probe(plugin->dialect()));
  EXPECT_FALSE(has_encode_terminate(plugin->dialect()));
  EXPECT_FALSE(has_inspect(plugin->dialect()));
  EXPECT_FALSE(has_execute(plugin->dialect()));
}

TEST(Conformance, MissingRequiredFunctionIsRefused) {
  EXPECT_NE(refusal(fixture(5)).find("malformed dialect function table"), std::string::npos);
}

TEST(Conformance, NoEntrySymbolIsRefused) {
  EXPECT_NE(refusal(fixture(6)).find("has no lms_plugin_entry symbol"), std::string::npos);
}

TEST(Conformance, PluginRefusingTheHostIsRefused) {
  EXPECT_NE(refusal(fixture(7)).find("refused to work with this host's ABI " + host_abi()),
            std::string::npos);
}

TEST(Conformance, WrongKindIsRefused) {
  EXPECT_NE(refusal(fixture(8)).find("is a shadow plugin where a dialect plugin was expected"),
            std::string::npos);
}

TEST(Conformance, LibraryStaysLoadedWhileACopyLives) {
  std::string error;
  std::optional<LoadedPlugin> copy;
  {
    const auto plugin = load_plugin(plugin_path(LMS_PLUGIN_BUILD_DIR, LMS_PLUGIN_DIALECT, "postgres"),
                                    LMS_PLUGIN_DIALECT, &error);
    ASSERT_TRUE(plugin) << error;
    copy = plugin;
  }
  // The original is gone; the copy's table must still be callable.
  lms_frame frame{};
  frame.struct_size = sizeof frame;
  const uint8_t sync[] = {'S', 0, 0, 0, 4};
  copy->dialect()->frame(LMS_FROM_CLIENT, sync, sizeof sync, &frame);
  EXPECT_EQ(frame.msg_class, LMS_MSG_SYNC);
}

}  // namespace
}  // namespace lms::core
