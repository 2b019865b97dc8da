#include "replay/compare.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "base/log.h"
#include "replay/measured_run.h"
#include "replay/server_launcher.h"

namespace cellar::replay {
namespace {

// The option name of an argument ("--store-disk=0" -> "--store-disk"), or "".
std::string OptionName(const std::string& arg) {
  if (arg.size() < 2 || arg[0] != '-') return "";
  return arg.substr(0, arg.find('='));
}

std::string JoinCommand(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) {
    if (!s.empty()) s += ' ';
    const bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`") == std::string::npos;
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

}  // namespace

namespace {

// One configuration: fresh store dir, server start, measured replay, server stop.
// Appends the report to `runs`.
Status RunOneConfig(const CompareOptions& o, const ServerConfig& config,
                    const std::filesystem::path& tmp_parent, const ReplayOptions& replay,
                    const Workload& w, const std::atomic<bool>* stop,
                    const CompareProgressFn& on_progress, std::vector<RunReport>* runs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path dir = fs::path(o.out_dir) / config.name;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create " + dir.string() + ": " + ec.message());
  std::string tmpl = (tmp_parent / ("cellar-replay-" + config.name + "-XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return IoError("cannot create a store dir in " + tmp_parent.string());
  }
  const std::string store_dir = tmpl;
  struct RemoveDir {
    std::string path;
    bool keep;
    ~RemoveDir() {
      std::error_code e;
      if (!keep) std::filesystem::remove_all(path, e);
    }
  } remove_store{store_dir, o.keep_store};

  std::vector<std::string> dropped;
  FilterServeArgs(o.serve_args, config, &dropped);
  if (!dropped.empty()) {
    CELLAR_LOG_WARN("[{}] the comparison sets these itself, dropped from --serve-args: {}",
                    config.name, JoinCommand(dropped));
  }
  CELLAR_ASSIGN_OR_RETURN(int port, PickFreePort());
  ServerLaunch launch;
  launch.argv = ServeCommand(o.server_cmd, o.serve_args, config, port, store_dir);
  launch.log_path = (dir / "server.log").string();
  launch.start_timeout_s = o.start_timeout_s;
  launch.stop_grace_s = o.stop_grace_s;
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  CELLAR_LOG_INFO("[{}] starting: {}", config.name, JoinCommand(launch.argv));
  auto server = ServerUnderTest::Start(launch, url, stop);
  if (!server.ok()) return server.status().WithContext("configuration " + config.name);

  ReplayOptions ro = replay;
  ro.url = url;
  MeasuredRunOptions mo;
  mo.label = config.name;
  mo.scrape_metrics = o.scrape_metrics;
  auto report = MeasuredRun(ro, mo, w, stop, [&](const ReplayProgress& p) {
    if (on_progress) on_progress(config.name, p);
  });
  bool killed = false;
  const int rc = (*server)->Stop(&killed);
  if (!report.ok()) return report.status();
  report->server_command = JoinCommand(launch.argv);
  report->server_exit_status = rc;
  report->server_killed = killed;
  if (rc != 0 || killed) {
    CELLAR_LOG_WARN("[{}] server exit status {}{}", config.name, rc,
                    killed ? " (killed after the grace period)" : "");
  }
  runs->push_back(std::move(*report));
  return OkStatus();
}

}  // namespace

const std::vector<ServerConfig>& StandardConfigs() {
  static const std::vector<ServerConfig> configs = {
      {"recompute",
       {"--no-prefix-cache", "--no-store"},
       "no reuse: every turn prefills its whole prompt"},
      {"pool", {"--no-store"}, "prefix cache in the working pool only"},
      {"dram", {"--store-disk", "0"}, "store with a DRAM tier only"},
      {"lru", {"--store-policy", "lru"}, "DRAM + disk, LRU eviction"},
      {"fifo", {"--store-policy", "fifo"}, "DRAM + disk, FIFO eviction"},
      {"scheduler", {"--store-policy", "scheduler"}, "DRAM + disk, scheduler-aware placement"},
  };
  return configs;
}

Result<std::vector<ServerConfig>> SelectConfigs(const std::string& csv) {
  if (csv.empty() || csv == "all") return StandardConfigs();
  std::vector<ServerConfig> out;
  size_t i = 0;
  while (i <= csv.size()) {
    size_t end = csv.find(',', i);
    if (end == std::string::npos) end = csv.size();
    const std::string name = csv.substr(i, end - i);
    auto it = std::find_if(StandardConfigs().begin(), StandardConfigs().end(),
                           [&](const ServerConfig& c) { return c.name == name; });
    if (it == StandardConfigs().end()) {
      return InvalidArgument("unknown configuration '" + name +
                             "' (known: recompute, pool, dram, lru, fifo, scheduler)");
    }
    out.push_back(*it);
    i = end + 1;
  }
  return out;
}

Result<std::vector<std::string>> SplitCommandLine(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else if (c == '\\' && quote == '"' && i + 1 < s.size()) {
        cur += s[++i];
      } else {
        cur += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
    } else {
      cur += c;
      in_word = true;
    }
  }
  if (quote != 0) return InvalidArgument("unterminated quote in: " + s);
  if (in_word) out.push_back(std::move(cur));
  return out;
}

std::vector<std::string> FilterServeArgs(const std::vector<std::string>& serve_args,
                                         const ServerConfig& config,
                                         std::vector<std::string>* dropped) {
  std::set<std::string> controlled = {"--host", "--port", "--store-dir", "--no-prefix-cache",
                                      "--no-store"};
  for (const std::string& f : config.flags) {
    if (!OptionName(f).empty()) controlled.insert(OptionName(f));
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < serve_args.size(); ++i) {
    const std::string& a = serve_args[i];
    if (!controlled.count(OptionName(a))) {
      out.push_back(a);
      continue;
    }
    if (dropped != nullptr) dropped->push_back(a);
    // "--opt value": the value goes too (flags like --no-store have none).
    if (a.find('=') == std::string::npos && i + 1 < serve_args.size() &&
        OptionName(serve_args[i + 1]).empty() && a != "--no-store" && a != "--no-prefix-cache") {
      if (dropped != nullptr) dropped->push_back(serve_args[i + 1]);
      ++i;
    }
  }
  return out;
}

std::vector<std::string> ServeCommand(const std::vector<std::string>& server_cmd,
                                      const std::vector<std::string>& serve_args,
                                      const ServerConfig& config, int port,
                                      const std::string& store_dir) {
  std::vector<std::string> argv = server_cmd;
  argv.push_back("serve");
  for (std::string& a : FilterServeArgs(serve_args, config, nullptr)) argv.push_back(std::move(a));
  for (const std::string& a :
       {std::string("--host"), std::string("127.0.0.1"), std::string("--port"),
        std::to_string(port), std::string("--store-dir"), store_dir}) {
    argv.push_back(a);
  }
  argv.insert(argv.end(), config.flags.begin(), config.flags.end());
  return argv;
}

CompareOutcome RunCompare(const CompareOptions& o, const ReplayOptions& replay, const Workload& w,
                          const std::atomic<bool>* stop, const CompareProgressFn& on_progress,
                          const ConfigDoneFn& on_config_done) {
  namespace fs = std::filesystem;
  CompareOutcome out;
  if (o.server_cmd.empty()) {
    out.error = InvalidArgument("no server command");
    return out;
  }
  std::error_code ec;
  const fs::path tmp_parent = o.tmp_dir.empty() ? fs::temp_directory_path(ec) : fs::path(o.tmp_dir);
  for (const ServerConfig& config : o.configs) {
    if (stop != nullptr && stop->load()) {
      out.interrupted = true;
      break;
    }
    out.error = RunOneConfig(o, config, tmp_parent, replay, w, stop, on_progress, &out.runs);
    if (!out.error.ok()) {
      out.interrupted = out.error.code() == StatusCode::kCancelled;
      if (out.interrupted) out.error = OkStatus();
      break;
    }
    if (on_config_done) on_config_done(out.runs.back());
    if (out.runs.back().result.interrupted) {
      out.interrupted = true;
      break;
    }
  }
  return out;
}

}  // namespace cellar::replay
