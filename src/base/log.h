// Logging: spdlog (Debian's libspdlog) behind a few names, so call sites read
// CELLAR_LOG_INFO("loaded {} tensors", n). Thread-safe.
#pragma once

#include <spdlog/spdlog.h>

#define CELLAR_LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define CELLAR_LOG_INFO(...) ::spdlog::info(__VA_ARGS__)
#define CELLAR_LOG_WARN(...) ::spdlog::warn(__VA_ARGS__)
#define CELLAR_LOG_ERROR(...) ::spdlog::error(__VA_ARGS__)

namespace cellar {
// Sends log output to stderr with a compact pattern; `level` is spdlog's name
// ("debug", "info", "warn", "error", "off").
void InitLogging(const std::string& level = "info");
}  // namespace cellar
