#include "state_store.h"

#include <gtest/gtest.h>
#include <lms/control.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace lms::orchestrator {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/lms-state-XXXXXX";
    dir_ = mkdtemp(templ);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StateStoreTest, AFirstStartHasNoHistory) {
  FileStateStore store(dir_);
  std::vector<Attempt> attempts;
  std::string error;
  ASSERT_TRUE(store.load(&attempts, &error)) << error;
  EXPECT_TRUE(attempts.empty());
}

TEST_F(StateStoreTest, WhatIsSavedIsWhatLoads) {
  FileStateStore store(dir_);
  Attempt a;
  a.id = 4;
  a.decision = kDecisionCommit;
  a.begin_timeout_ms = 30000;
  a.abort_on_timeout = true;
  ProxyRecord p;
  p.control_address = "http://127.0.0.1:9044";
  p.sql_address = "127.0.0.1:9043";
  p.cutover.id = 4;
  p.cutover.status = LMS_CUTOVER_COMMITTED;
  p.confirmed = true;
  a.proxies = {p};
  std::string error;
  ASSERT_TRUE(store.save({a}, &error)) << error;
  std::vector<Attempt> loaded;
  ASSERT_TRUE(store.load(&loaded, &error)) << error;
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].id, 4u);
  EXPECT_EQ(loaded[0].decision, kDecisionCommit);
  EXPECT_TRUE(loaded[0].abort_on_timeout);
  ASSERT_EQ(loaded[0].proxies.size(), 1u);
  EXPECT_EQ(loaded[0].proxies[0].sql_address, "127.0.0.1:9043");
  EXPECT_TRUE(loaded[0].proxies[0].confirmed);
  EXPECT_EQ(loaded[0].status(), LMS_CUTOVER_COMMITTED);
  EXPECT_FALSE(std::filesystem::exists(store.path() + ".tmp"));
}

TEST_F(StateStoreTest, ACorruptHistoryIsAnErrorNotAFreshStart) {
  FileStateStore store(dir_);
  std::ofstream(store.path()) << "{\"attempts\": [";
  std::vector<Attempt> attempts;
  std::string error;
  EXPECT_FALSE(store.load(&attempts, &error));
  EXPECT_NE(error.find(store.path()), std::string::npos);
}

TEST_F(StateStoreTest, ADirectoryThatIsGoneIsReported) {
  FileStateStore store(dir_ + "/gone");
  std::string error;
  EXPECT_FALSE(store.save({}, &error));
  EXPECT_NE(error.find("gone"), std::string::npos);
}

}  // namespace
}  // namespace lms::orchestrator
