// `cellar bench` end to end on stories260K: the markdown table and --json.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "cli/cmd_generate_test_util.h"

namespace cellar {
namespace {

using testing::CliRun;
using testing::RunCli;
using testing::ShellQuote;

TEST(BenchCliTest, JsonHasPpAndTgRows) {
  CELLAR_REQUIRE_SHARED(model, "models/stories260K.gguf");
  const CliRun r =
      RunCli("bench -m " + ShellQuote(model.string()) + " -p 32,64 -n 8 -r 2 -t 1 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["test"], "pp32");
  EXPECT_EQ(j[1]["test"], "pp64");
  EXPECT_EQ(j[2]["test"], "tg8");
  EXPECT_EQ(j[1]["n_prompt"], 64);
  EXPECT_EQ(j[2]["n_gen"], 8);
  for (const auto& row : j) {
    EXPECT_EQ(row["n_threads"], 1);
    EXPECT_EQ(row["model_n_params"], 292800);
    EXPECT_EQ(row["model_size"], 1171200);
    EXPECT_EQ(row["samples_ts"].size(), 2u);
    EXPECT_GT(row["avg_ts"].get<double>(), 0.0);
  }
}

TEST(BenchCliTest, MarkdownTableInLlamaBenchFormat) {
  CELLAR_REQUIRE_SHARED(model, "models/stories260K.gguf");
  const CliRun r = RunCli("bench -m " + ShellQuote(model.string()) + " -p 16 -n 4 -r 1 -t 1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("| model", 0), 0u) << r.out;
  EXPECT_NE(r.out.find(" t/s |"), std::string::npos);
  EXPECT_NE(r.out.find("| llama 293K F32"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.12 MiB"), std::string::npos);
  EXPECT_NE(r.out.find("0.29 M"), std::string::npos);
  EXPECT_NE(r.out.find("pp16 |"), std::string::npos);
  EXPECT_NE(r.out.find("tg4 |"), std::string::npos);
  EXPECT_NE(r.out.find(" ± "), std::string::npos);
  const CliRun bad = RunCli("bench -m " + ShellQuote(model.string()) + " -p x -t 1");
  EXPECT_EQ(bad.exit_code, 1);
}

}  // namespace
}  // namespace cellar
