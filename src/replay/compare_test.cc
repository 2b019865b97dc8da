// --compare machinery: configurations, serve command lines, and servers started,
// health-checked and stopped (the test binary stands in for `cellar serve`).
#include "replay/compare.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "base/testing/shared_data.h"
#include "replay/http_client.h"
#include "replay/server_launcher.h"
#include "replay/synthetic.h"
#include "replay/testing/fake_openai_server.h"

// Turns this binary into a fake `cellar serve` when started with CELLAR_REPLAY_FAKE_SERVE=1.
[[maybe_unused]] static const bool kFakeServe = cellar::replay::testing::MaybeRunFakeServe();

namespace cellar::replay {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;

std::string SelfExe() { return fs::read_symlink("/proc/self/exe").string(); }

std::vector<std::string> ReadLines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

TEST(SelectConfigs, AllOrAList) {
  auto all = SelectConfigs("all");
  ASSERT_TRUE(all.ok());
  std::vector<std::string> names;
  for (const auto& c : *all) names.push_back(c.name);
  EXPECT_THAT(names, ElementsAre("recompute", "pool", "dram", "lru", "fifo", "scheduler"));
  auto some = SelectConfigs("lru,recompute");
  ASSERT_TRUE(some.ok());
  ASSERT_EQ(some->size(), 2u);
  EXPECT_EQ((*some)[0].name, "lru");
  EXPECT_THAT((*some)[1].flags, ElementsAre("--no-prefix-cache", "--no-store"));
  EXPECT_FALSE(SelectConfigs("lru,bogus").ok());
}

TEST(SplitCommandLine, QuotesAndEscapes) {
  auto a = SplitCommandLine(R"(-m "my model.gguf" --kv-mem 64M  -t 2 'a b' c\ d)");
  ASSERT_TRUE(a.ok());
  EXPECT_THAT(*a, ElementsAre("-m", "my model.gguf", "--kv-mem", "64M", "-t", "2", "a b", "c d"));
  EXPECT_TRUE(SplitCommandLine("")->empty());
  EXPECT_FALSE(SplitCommandLine("-m 'open").ok());
}

TEST(ServeCommand, ConfigurationFlagsReplaceTheirServeArgs) {
  const std::vector<std::string> serve = {
      "-m",     "m.gguf", "--store-disk",        "4G",           "--no-store",
      "--port", "9",      "--store-policy=fifo", "--store-dram", "1G"};
  auto configs = SelectConfigs("dram,lru");
  ASSERT_TRUE(configs.ok());
  std::vector<std::string> dropped;
  EXPECT_THAT(FilterServeArgs(serve, (*configs)[0], &dropped),
              ElementsAre("-m", "m.gguf", "--store-policy=fifo", "--store-dram", "1G"));
  EXPECT_THAT(dropped, ElementsAre("--store-disk", "4G", "--no-store", "--port", "9"));
  EXPECT_THAT(ServeCommand({"/bin/cellar"}, serve, (*configs)[1], 1234, "/tmp/s"),
              ElementsAre("/bin/cellar", "serve", "-m", "m.gguf", "--store-disk", "4G",
                          "--store-dram", "1G", "--host", "127.0.0.1", "--port", "1234",
                          "--store-dir", "/tmp/s", "--store-policy", "lru"));
}

TEST(PickFreePort, GivesABindablePort) {
  auto p = PickFreePort();
  ASSERT_TRUE(p.ok());
  EXPECT_GT(*p, 0);
  testing::FakeServerOptions fo;
  fo.port = *p;
  testing::FakeOpenAiServer s(fo);
  EXPECT_TRUE(s.ok());
}

TEST(ServerUnderTest, StartsWaitsForHealthAndStops) {
  cellar::testing::TempDir tmp;
  const fs::path log = tmp.path() / "args.log";
  ::setenv("CELLAR_REPLAY_FAKE_SERVE", "1", 1);
  ::setenv("CELLAR_REPLAY_FAKE_SERVE_LOG", log.c_str(), 1);
  auto port = PickFreePort();
  ASSERT_TRUE(port.ok());
  ServerLaunch l;
  l.argv = {SelfExe(), "serve", "--port", std::to_string(*port)};
  l.log_path = (tmp.path() / "server.log").string();
  l.start_timeout_s = 30;
  const std::string url = "http://127.0.0.1:" + std::to_string(*port);
  auto s = ServerUnderTest::Start(l, url, nullptr);
  ::unsetenv("CELLAR_REPLAY_FAKE_SERVE");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE((*s)->Running());
  EXPECT_TRUE(HttpGet(url, "/health", 5).ok());
  bool killed = true;
  EXPECT_EQ((*s)->Stop(&killed), 0);  // SIGTERM is enough
  EXPECT_FALSE(killed);
  EXPECT_FALSE((*s)->Running());
  EXPECT_FALSE(HttpGet(url, "/health", 1).ok());
  EXPECT_THAT(ReadLines(log), ElementsAre(SelfExe() + "\tserve\t--port\t" + std::to_string(*port)));
}

TEST(ServerUnderTest, AServerThatExitsOrNeverAnswersIsAnError) {
  cellar::testing::TempDir tmp;
  ServerLaunch l;
  l.log_path = (tmp.path() / "server.log").string();
  l.argv = {"/bin/sh", "-c", "echo model not found >&2; exit 3"};
  auto a = ServerUnderTest::Start(l, "http://127.0.0.1:1", nullptr);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("exited with status 3"), std::string::npos);
  EXPECT_NE(a.status().message().find("model not found"), std::string::npos);

  l.argv = {"/bin/sh", "-c", "exec sleep 30"};
  l.start_timeout_s = 0.3;
  l.stop_grace_s = 5;
  auto b = ServerUnderTest::Start(l, "http://127.0.0.1:1", nullptr);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("did not answer /health"), std::string::npos);

  std::atomic<bool> stop{true};
  l.start_timeout_s = 30;
  auto c = ServerUnderTest::Start(l, "http://127.0.0.1:1", &stop);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kCancelled);
}

TEST(RunCompare, EachConfigurationOnAFreshServerAndStore) {
  cellar::testing::TempDir tmp;
  const fs::path log = tmp.path() / "args.log";
  const fs::path stores = tmp.path() / "stores";
  fs::create_directories(stores);
  ::setenv("CELLAR_REPLAY_FAKE_SERVE", "1", 1);
  ::setenv("CELLAR_REPLAY_FAKE_SERVE_LOG", log.c_str(), 1);
  CompareOptions co;
  co.server_cmd = {SelfExe()};
  co.serve_args = {"-m", "model.gguf", "--no-store", "-t", "2"};
  co.configs = *SelectConfigs("recompute,pool,dram,lru");
  co.out_dir = (tmp.path() / "out").string();
  co.tmp_dir = stores.string();
  co.start_timeout_s = 30;
  SyntheticOptions so;
  so.n_conversations = 3;
  so.min_turns = so.max_turns = 3;
  so.user_words_median = 10;
  so.assistant_words_median = 10;
  ReplayOptions ro;
  ro.concurrency = 2;
  ro.max_tokens = 4;
  std::vector<std::string> done;
  CompareOutcome out = RunCompare(co, ro, GenerateSynthetic(so), nullptr, {},
                                  [&](const RunReport& r) { done.push_back(r.label); });
  ::unsetenv("CELLAR_REPLAY_FAKE_SERVE");
  ASSERT_TRUE(out.error.ok()) << out.error.ToString();
  EXPECT_FALSE(out.interrupted);
  EXPECT_THAT(done, ElementsAre("recompute", "pool", "dram", "lru"));
  ASSERT_EQ(out.runs.size(), 4u);

  // One server per configuration, each with its own port and store dir, the
  // pass-through options (minus --no-store, which the comparison controls) and the
  // configuration's flags last.
  const std::vector<std::string> lines = ReadLines(log);
  ASSERT_EQ(lines.size(), 4u);
  std::set<std::string> store_dirs;
  const char* tails[] = {"--no-prefix-cache\t--no-store", "--no-store", "--store-disk\t0",
                         "--store-policy\tlru"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i].rfind(
                  SelfExe() + "\tserve\t-m\tmodel.gguf\t-t\t2\t--host\t127.0.0.1\t--port\t", 0),
              0u)
        << lines[i];
    EXPECT_EQ(lines[i].substr(lines[i].size() - std::strlen(tails[i])), tails[i]);
    const size_t d = lines[i].find("--store-dir\t");
    ASSERT_NE(d, std::string::npos);
    const std::string dir = lines[i].substr(d + 12, lines[i].find('\t', d + 12) - d - 12);
    EXPECT_EQ(dir.rfind(stores.string() + "/cellar-replay-", 0), 0u) << dir;
    EXPECT_FALSE(fs::exists(dir)) << "store dir not removed: " << dir;
    store_dirs.insert(dir);
    EXPECT_TRUE(fs::exists(fs::path(co.out_dir) / out.runs[i].label / "server.log"));
  }
  EXPECT_EQ(store_dirs.size(), 4u);

  for (const RunReport& r : out.runs) {
    EXPECT_EQ(r.summary.n_measured, 9) << r.label;
    EXPECT_EQ(r.server_exit_status, 0) << r.label;
  }
  // The fake reports no reuse for recompute, and tiers as the configuration has them.
  EXPECT_EQ(out.runs[0].summary.cached_tokens, 0);
  EXPECT_FALSE(out.runs[0].tiers.has_value());
  for (size_t i = 1; i < 4; ++i) EXPECT_GT(out.runs[i].summary.cached_share, 0.3);
  ASSERT_TRUE(out.runs[1].tiers && out.runs[2].tiers && out.runs[3].tiers);
  EXPECT_EQ(out.runs[1].tiers->hit_tokens.size(), 1u);
  EXPECT_EQ(out.runs[2].tiers->hit_tokens.size(), 2u);
  EXPECT_EQ(out.runs[3].tiers->hit_tokens.size(), 3u);
  EXPECT_DOUBLE_EQ(out.runs[3].tiers->hit_tokens.at("pool"),
                   static_cast<double>(out.runs[3].summary.cached_tokens));
  EXPECT_DOUBLE_EQ(out.runs[3].tiers->TotalTokens(),
                   static_cast<double>(out.runs[3].summary.prompt_tokens));
}

TEST(RunCompare, AServerThatFailsEndsTheComparisonKeepingEarlierRuns) {
  cellar::testing::TempDir tmp;
  ::setenv("CELLAR_REPLAY_FAKE_SERVE", "1", 1);
  // The fake binds the port it is given; a stand-in that exits for `dram` instead:
  CompareOptions co;
  co.server_cmd = {"/bin/sh", "-c",
                   "case \"$*\" in *--store-disk*) exit 4;; esac; exec \"$0\" \"$@\"", SelfExe()};
  co.configs = *SelectConfigs("pool,dram,lru");
  co.out_dir = (tmp.path() / "out").string();
  co.tmp_dir = tmp.path().string();
  SyntheticOptions so;
  so.n_conversations = 1;
  so.min_turns = so.max_turns = 1;
  ReplayOptions ro;
  CompareOutcome out = RunCompare(co, ro, GenerateSynthetic(so), nullptr, {}, {});
  ::unsetenv("CELLAR_REPLAY_FAKE_SERVE");
  ASSERT_EQ(out.runs.size(), 1u);
  EXPECT_EQ(out.runs[0].label, "pool");
  EXPECT_FALSE(out.error.ok());
  EXPECT_NE(out.error.message().find("configuration dram"), std::string::npos);
  EXPECT_NE(out.error.message().find("exited with status 4"), std::string::npos);
}

}  // namespace
}  // namespace cellar::replay
