// Crash safety of the store end to end: `cellar serve` with a disk-only store
// in a temporary folder is killed with SIGKILL while it is generating (and
// saving chunks); crash leftovers are planted beside what it wrote (a partial
// temporary file, a chunk file cut short). A restarted server serves only
// valid chunks: the bad file is counted and removed at its scan, and every
// continuation equals the output of a server that recomputes everything.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "base/testing/fault_env.h"
#include "base/testing/shared_data.h"
#include "cli/testing/serve_process.h"

namespace cellar {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// A `cellar serve` child process on a free port.
class Server : public testing::ServeProcess {
 public:
  bool Start(const std::vector<std::string>& args) {
    return ServeProcess::Start(CELLAR_BINARY, args);
  }
};

struct Completion {
  std::string text;
  int cached = -1;
};

Completion Complete(const Server& s, const std::string& prompt, int max_tokens) {
  httplib::Client c("127.0.0.1", s.port());
  c.set_read_timeout(300, 0);
  Json body = {
      {"prompt", prompt}, {"max_tokens", max_tokens}, {"temperature", 0}, {"ignore_eos", true}};
  auto r = c.Post("/v1/completions", body.dump(), "application/json");
  Completion out;
  EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no response");
  if (!r || r->status != 200) return out;
  const Json j = Json::parse(r->body);
  out.text = j["choices"][0]["text"].get<std::string>();
  out.cached = j["usage"]["prompt_tokens_details"]["cached_tokens"].get<int>();
  return out;
}

double Metric(const Server& s, const std::string& name) {
  httplib::Client c("127.0.0.1", s.port());
  auto r = c.Get("/metrics");
  if (!r || r->status != 200) return -1;
  // The sample line "<name> <value>" (name with its labels, exactly).
  const std::string& body = r->body;
  for (size_t at = 0; at < body.size();) {
    size_t end = body.find('\n', at);
    if (end == std::string::npos) end = body.size();
    const std::string line = body.substr(at, end - at);
    if (line.size() > name.size() + 1 && line.compare(0, name.size(), name) == 0 &&
        line[name.size()] == ' ') {
      return std::stod(line.substr(name.size() + 1));
    }
    at = end + 1;
  }
  return -1;
}

const std::vector<std::string>& Prompts() {
  static const std::vector<std::string> p = {
      "Once upon a time, there was a little girl named Lily. She loved to play outside.",
      "Tom had a toy car. He liked to play with it every day in the garden.",
      "The sun was shining and the birds were singing. A little dog ran to the park."};
  return p;
}

class StoreKillTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::SharedPath("models/stories260K.gguf");
    if (!std::filesystem::exists(model_)) GTEST_SKIP() << "needs ../shared";
  }
  std::vector<std::string> Args(std::vector<std::string> extra) const {
    std::vector<std::string> a = {"-m", model_.string(), "-t", "1", "--no-prefix-cache"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  std::filesystem::path model_;
  testing::TempDir dir_;
};

TEST_F(StoreKillTest, KilledDuringSavesRestartsWithOnlyValidChunks) {
  const std::string dir = dir_.path().string();
  // Disk only: every saved chunk is written while the server runs.
  const std::vector<std::string> store = {"--store-dir",          dir, "--store-dram", "0",
                                          "--store-chunk-tokens", "16"};
  Server a;
  ASSERT_TRUE(a.Start(Args(store))) << a.log();
  std::vector<Completion> first;
  for (const std::string& p : Prompts()) first.push_back(Complete(a, p, 48));
  // Let those saves reach the disk (they are written behind, never waited for).
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (Metric(a, "cellar_store_save_backlog_chunks") != 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  // A long streamed generation, killed part-way while its chunks are saved.
  {
    const Json body = {{"prompt", Prompts()[0] + " One day"},
                       {"max_tokens", 400},
                       {"temperature", 0},
                       {"ignore_eos", true},
                       {"stream", true}};
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(a.port()));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    timeval tv{60, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    const std::string req =
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        "Content-Length: " +
        std::to_string(body.dump().size()) + "\r\n\r\n" + body.dump();
    ASSERT_EQ(send(fd, req.data(), req.size(), 0), static_cast<ssize_t>(req.size()));
    size_t received = 0;
    char buf[4096];
    while (received < 6000) {  // dozens of tokens in
      const ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) break;
      received += static_cast<size_t>(n);
    }
    EXPECT_GE(received, 6000u);
    kill(a.pid(), SIGKILL);  // kill -9 while generating and saving
    close(fd);
  }
  a.Kill();

  // Crash leftovers beside what the server wrote: a partial temporary file and
  // a chunk file cut short (as a lost write would leave it).
  std::filesystem::path model_dir;
  std::vector<std::filesystem::path> chunks;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".kv") {
      chunks.push_back(e.path());
      model_dir = e.path().parent_path();
    }
  }
  ASSERT_GE(chunks.size(), 3u) << "the first turns' chunks should be on disk";
  std::sort(chunks.begin(), chunks.end());
  {
    std::FILE* f = std::fopen((model_dir / "0123456789abcdef0123456789abcdef.kv.tmp").c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("CELLARKV partial", f);
    std::fclose(f);
  }
  const std::filesystem::path cut = chunks.front();
  testing::TruncateFile(cut.string(), std::filesystem::file_size(cut) / 2);

  Server b;
  ASSERT_TRUE(b.Start(Args(store))) << b.log();
  EXPECT_EQ(Metric(b, "cellar_store_corrupt_chunks_total"), 1) << b.log();
  EXPECT_FALSE(std::filesystem::exists(cut));
  EXPECT_FALSE(std::filesystem::exists(model_dir / "0123456789abcdef0123456789abcdef.kv.tmp"));
  EXPECT_GE(Metric(b, "cellar_store_chunks{tier=\"disk\"}"), 2);

  // A server that recomputes everything gives the reference continuations.
  Server ref;
  ASSERT_TRUE(ref.Start(Args({"--no-store"}))) << ref.log();
  int reused = 0;
  for (size_t i = 0; i < Prompts().size(); ++i) {
    const std::string turn2 = Prompts()[i] + first[i].text + " Then they went home.";
    const Completion want = Complete(ref, turn2, 24);
    EXPECT_EQ(want.cached, 0);
    const Completion got = Complete(b, turn2, 24);
    EXPECT_EQ(got.text, want.text) << "conversation " << i;
    reused += got.cached;
  }
  EXPECT_GT(reused, 0) << "the restarted server should reuse the stored chunks";
  EXPECT_GT(Metric(b, "cellar_store_hit_tokens_total{tier=\"disk\"}"), 0);
  EXPECT_EQ(Metric(b, "cellar_store_loads_failed_total"), 0);
}

}  // namespace
}  // namespace cellar
