// `cellar replay` end to end: the built binary against a fake OpenAI server on loopback.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/testing/shared_data.h"
#include "replay/process.h"
#include "replay/testing/fake_openai_server.h"

// Turns this binary into a fake `cellar serve` when started with CELLAR_REPLAY_FAKE_SERVE=1.
[[maybe_unused]] static const bool kFakeServe = cellar::replay::testing::MaybeRunFakeServe();

namespace cellar::replay {
namespace {

namespace fs = std::filesystem;
using cellar::testing::ReadFileToString;
using cellar::testing::TempDir;
using testing::FakeOpenAiServer;
using testing::FakeServerOptions;

std::unique_ptr<ChildProcess> StartReplay(std::vector<std::string> args, const fs::path& log) {
  args.insert(args.begin(), {CELLAR_BINARY, "replay"});
  SpawnOptions so;
  so.argv = args;
  so.log_path = log.string();
  auto p = ChildProcess::Spawn(so);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  return p.ok() ? std::move(*p) : nullptr;
}

int RunReplay(std::vector<std::string> args, const fs::path& log) {
  return StartReplay(std::move(args), log)->Wait();
}

nlohmann::json ReadJson(const fs::path& p) {
  return nlohmann::json::parse(ReadFileToString(p), nullptr, /*allow_exceptions=*/false);
}

bool IsPng(const fs::path& p) {
  const std::string bytes = ReadFileToString(p);
  return bytes.size() > 1000 && bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0;
}

TEST(ReplayCli, SyntheticRunWritesJsonSummaryAndPlots) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  const int rc = RunReplay({"--url",
                            server.url(),
                            "--model",
                            "m",
                            "--conversations",
                            "5",
                            "--syn-min-turns",
                            "2",
                            "--syn-max-turns",
                            "4",
                            "--concurrency",
                            "2",
                            "--session-id",
                            "--warmup-turns",
                            "1",
                            "--extra",
                            R"({"cache_prompt":true})",
                            "--out",
                            out.string(),
                            "--label",
                            "fake",
                            "--progress",
                            "never"},
                           tmp.path() / "log");
  ASSERT_EQ(rc, 0) << ReadFileToString(tmp.path() / "log");
  const nlohmann::json j = ReadJson(out / "requests.json");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["label"], "fake");
  EXPECT_FALSE(j["interrupted"]);
  const int64_t turns = j["workload"]["turns"];
  EXPECT_EQ(j["workload"]["conversations"], 5);
  EXPECT_EQ(static_cast<int64_t>(j["requests"].size()), turns);
  EXPECT_EQ(static_cast<int64_t>(server.requests().size()), turns);
  EXPECT_EQ(j["summary"]["n_warmup"], 1);
  EXPECT_EQ(j["summary"]["n_measured"], turns - 1);
  EXPECT_EQ(j["summary"]["n_errors"], 0);
  EXPECT_GT(j["summary"]["cached_share"].get<double>(), 0.0);
  // The fake serves cellar_store_* counters: the tiers were scraped and diffed, and
  // they count every prompt token of the run (warm-up included).
  EXPECT_TRUE(j["store_tiers"]["available"]);
  int64_t prompt_tokens = 0;
  for (const auto& r : j["requests"]) prompt_tokens += r["prompt_tokens"].get<int64_t>();
  const double hits = j["store_tiers"]["hit_tokens"]["pool"];
  const double miss = j["store_tiers"]["miss_tokens"];
  EXPECT_DOUBLE_EQ(hits + miss, static_cast<double>(prompt_tokens));
  for (const auto& req : server.requests()) {
    EXPECT_EQ(req.body["cache_prompt"], true);
    EXPECT_TRUE(req.body.contains("session_id"));
  }
  const std::string md = ReadFileToString(out / "summary.md");
  EXPECT_NE(md.find("# Replay: fake"), std::string::npos);
  EXPECT_NE(md.find("| dram | 0 | 0.0% |"), std::string::npos) << md;
  for (const char* png : {"ttft_by_turn.png", "ttft_cdf.png", "hit_rate_by_tier.png"}) {
    EXPECT_TRUE(IsPng(out / png)) << png;
  }
}

TEST(ReplayCli, ShareGptFileWithOddConversations) {
  FakeOpenAiServer server;
  ASSERT_TRUE(server.ok());
  TempDir tmp;
  const fs::path data = tmp.path() / "sg.json";
  std::ofstream(data) << R"([
    {"id": "a", "conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "yo"},
                                  {"from": "human", "value": "again"}]},
    {"id": "b", "conversations": [{"from": "human", "value": "x"}, {"from": "human", "value": "y"}]},
    {"id": "c", "conversations": [{"from": "gpt", "value": "z"}]}
  ])";
  const fs::path out = tmp.path() / "out";
  const int rc = RunReplay({"--url", server.url(), "--sharegpt", data.string(), "--out",
                            out.string(), "--no-plots", "--no-metrics", "--progress", "never"},
                           tmp.path() / "log");
  ASSERT_EQ(rc, 0) << ReadFileToString(tmp.path() / "log");
  const nlohmann::json j = ReadJson(out / "requests.json");
  EXPECT_EQ(j["workload"]["conversations"], 1);
  EXPECT_EQ(j["workload"]["skipped"]["not_alternating"], 1);
  EXPECT_EQ(j["workload"]["skipped"]["no_user_turn"], 1);
  ASSERT_EQ(j["requests"].size(), 2u);
  EXPECT_EQ(j["requests"][1]["turn"], 2);
  EXPECT_FALSE(j["store_tiers"]["available"]);
  ASSERT_EQ(server.requests().size(), 2u);
  const nlohmann::json msgs = server.requests()[1].body["messages"];
  ASSERT_EQ(msgs.size(), 3u);
  EXPECT_EQ(msgs[1]["content"], "yo");  // the recorded answer
  EXPECT_FALSE(fs::exists(out / "ttft_cdf.png"));
}

TEST(ReplayCli, CtrlCStopsAndWritesWhatWasMeasured) {
  FakeServerOptions fo;
  fo.ttft_s = 0.05;
  FakeOpenAiServer server(fo);
  ASSERT_TRUE(server.ok());
  TempDir tmp;
  const fs::path out = tmp.path() / "out";
  auto p = StartReplay({"--url", server.url(), "--conversations", "4", "--syn-min-turns", "40",
                        "--syn-max-turns", "40", "--concurrency", "2", "--drain-timeout", "0.2",
                        "--out", out.string(), "--no-plots", "--progress", "never"},
                       tmp.path() / "log");
  ASSERT_NE(p, nullptr);
  for (int i = 0; i < 2000 && server.requests().size() < 6; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GE(server.requests().size(), 6u);
  ::kill(p->pid(), SIGINT);
  EXPECT_EQ(p->Wait(), 130) << ReadFileToString(tmp.path() / "log");
  const nlohmann::json j = ReadJson(out / "requests.json");
  ASSERT_TRUE(j.is_object()) << ReadFileToString(tmp.path() / "log");
  EXPECT_TRUE(j["interrupted"]);
  EXPECT_GE(j["summary"]["n_measured"].get<int64_t>(), 4);
  EXPECT_LT(j["requests"].size(), 160u);
  EXPECT_NE(ReadFileToString(out / "summary.md").find("interrupted"), std::string::npos);
}

TEST(ReplayCli, EstimateKvPrintsTierSizes) {
  TempDir tmp;
  const fs::path log = tmp.path() / "log";
  const int rc = RunReplay(
      {"--estimate-kv", "--kv-shape", "5,4,8", "--conversations", "50", "--concurrency", "2"}, log);
  ASSERT_EQ(rc, 0) << ReadFileToString(log);
  const std::string text = ReadFileToString(log);
  EXPECT_NE(text.find("640 bytes per token"), std::string::npos) << text;
  EXPECT_NE(text.find("--kv-mem "), std::string::npos) << text;
  EXPECT_NE(text.find("--store-dram "), std::string::npos) << text;
  EXPECT_EQ(RunReplay({"--estimate-kv"}, log), 1);  // needs a KV size
}

TEST(ReplayCli, BadOptionsFail) {
  TempDir tmp;
  const fs::path log = tmp.path() / "log";
  EXPECT_NE(RunReplay({"--extra", "[1]"}, log), 0);
  EXPECT_NE(RunReplay({"--think-dist", "gamma"}, log), 0);
  EXPECT_NE(RunReplay({"--sharegpt", "/nonexistent.json"}, log), 0);
  EXPECT_EQ(RunReplay({"--url", "localhost:1", "--out", (tmp.path() / "o").string()}, log), 1);
  // Nothing listens: every request fails.
  int port = 0;
  {
    FakeOpenAiServer s;
    port = s.port();
  }
  EXPECT_EQ(RunReplay({"--url", "http://127.0.0.1:" + std::to_string(port), "--conversations", "2",
                       "--syn-max-turns", "2", "--out", (tmp.path() / "o2").string(), "--no-plots",
                       "--no-metrics"},
                      log),
            3);
}

TEST(ReplayCli, CompareRunsEveryConfigurationAgainstAStandIn) {
  TempDir tmp;
  const fs::path log = tmp.path() / "args.log";
  const fs::path out = tmp.path() / "out";
  ::setenv("CELLAR_REPLAY_FAKE_SERVE", "1", 1);
  ::setenv("CELLAR_REPLAY_FAKE_SERVE_LOG", log.c_str(), 1);
  const int rc = RunReplay({"--compare",
                            "--server-cmd",
                            fs::read_symlink("/proc/self/exe").string(),
                            "--serve-args",
                            "-m model.gguf -t 2",
                            "--kv-shape",
                            "5,4,8",
                            "--auto-size",
                            "--conversations",
                            "3",
                            "--syn-min-turns",
                            "3",
                            "--syn-max-turns",
                            "3",
                            "--store-tmp",
                            tmp.path().string(),
                            "--out",
                            out.string(),
                            "--progress",
                            "never"},
                           tmp.path() / "log");
  ::unsetenv("CELLAR_REPLAY_FAKE_SERVE");
  ASSERT_EQ(rc, 0) << ReadFileToString(tmp.path() / "log");
  const nlohmann::json j = ReadJson(out / "compare.json");
  ASSERT_TRUE(j.is_object());
  ASSERT_EQ(j["runs"].size(), 6u);
  const char* names[] = {"recompute", "pool", "dram", "lru", "fifo", "scheduler"};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(j["runs"][i]["label"], names[i]);
    EXPECT_EQ(j["runs"][i]["summary"]["n_measured"], 9);
    EXPECT_TRUE(fs::exists(out / names[i] / "requests.json"));
    EXPECT_TRUE(fs::exists(out / names[i] / "server.log"));
  }
  EXPECT_DOUBLE_EQ(j["runs"][0]["ttft_mean_reduction"].get<double>(), 0.0);
  EXPECT_EQ(j["runs"][0]["summary"]["cached_tokens"], 0);
  EXPECT_FALSE(j["runs"][0]["store_tiers"]["available"]);
  EXPECT_TRUE(j["runs"][3]["store_tiers"]["available"]);
  const std::string args = ReadFileToString(log);
  EXPECT_NE(args.find("serve\t-m\tmodel.gguf\t-t\t2\t--kv-mem\t"), std::string::npos) << args;
  EXPECT_NE(args.find("\t--store-dram\t"), std::string::npos) << args;
  EXPECT_NE(args.find("--store-policy\tscheduler\n"), std::string::npos) << args;
  const std::string md = ReadFileToString(out / "compare.md");
  EXPECT_NE(md.find("| scheduler | 9 | 0 |"), std::string::npos) << md;
  EXPECT_TRUE(IsPng(out / "ttft_by_turn.png"));
  EXPECT_TRUE(IsPng(out / "hit_rate_by_tier.png"));
}

}  // namespace
}  // namespace cellar::replay
