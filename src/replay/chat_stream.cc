#include "replay/chat_stream.h"

#include <nlohmann/json.hpp>

namespace cellar::replay {
namespace {

int64_t IntOr(const nlohmann::json& obj, const char* key, int64_t fallback) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return fallback;
  return it->get<int64_t>();
}

std::string ErrorText(const nlohmann::json& err) {
  if (err.is_string()) return err.get<std::string>();
  if (err.is_object()) {
    auto msg = err.find("message");
    if (msg != err.end() && msg->is_string()) return msg->get<std::string>();
  }
  return err.dump();
}

// Non-empty text in `obj[key]`.
size_t TextLength(const nlohmann::json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return 0;
  return it->get_ref<const std::string&>().size();
}

void ReadUsage(const nlohmann::json& u, Usage* usage) {
  if (!u.is_object()) return;
  usage->prompt_tokens = IntOr(u, "prompt_tokens", usage->prompt_tokens);
  usage->completion_tokens = IntOr(u, "completion_tokens", usage->completion_tokens);
  auto details = u.find("prompt_tokens_details");
  if (details != u.end() && details->is_object()) {
    usage->cached_tokens = IntOr(*details, "cached_tokens", usage->cached_tokens);
  }
}

}  // namespace

Status ChatStreamReader::Feed(std::string_view bytes, double now_s) {
  events_.clear();
  CELLAR_RETURN_IF_ERROR(parser_.Feed(bytes, &events_));
  for (const SseEvent& e : events_) OnEvent(e, now_s);
  return OkStatus();
}

void ChatStreamReader::Finish(double now_s) {
  events_.clear();
  parser_.Finish(&events_);
  for (const SseEvent& e : events_) OnEvent(e, now_s);
}

void ChatStreamReader::OnEvent(const SseEvent& e, double now_s) {
  if (done_) return;
  if (e.data == "[DONE]") {
    done_ = true;
    return;
  }
  nlohmann::json chunk = nlohmann::json::parse(e.data, nullptr, /*allow_exceptions=*/false);
  if (chunk.is_discarded() || !chunk.is_object()) {
    if (error_.empty()) error_ = "stream chunk is not a JSON object: " + e.data.substr(0, 200);
    return;
  }
  if (auto err = chunk.find("error"); err != chunk.end() && !err->is_null()) {
    if (error_.empty()) error_ = ErrorText(*err);
    return;
  }
  if (e.event == "error") {
    if (error_.empty()) error_ = chunk.dump();
    return;
  }
  if (auto usage = chunk.find("usage"); usage != chunk.end()) ReadUsage(*usage, &usage_);
  auto choices = chunk.find("choices");
  if (choices == chunk.end() || !choices->is_array()) return;
  for (const nlohmann::json& choice : *choices) {
    if (!choice.is_object()) continue;
    if (auto delta = choice.find("delta"); delta != choice.end() && delta->is_object()) {
      const size_t n = TextLength(*delta, "content") + TextLength(*delta, "reasoning_content");
      if (n > 0) {
        if (first_token_s_ < 0) first_token_s_ = now_s;
        last_token_s_ = now_s;
        ++content_chunks_;
        output_chars_ += static_cast<int64_t>(n);
      }
    }
    if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
      finish_reason_ = fr->get<std::string>();
    }
  }
}

void ChatStreamReader::ReadNonStreamed(std::string_view json_text, double now_s) {
  nlohmann::json obj = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded() || !obj.is_object()) {
    error_ = "response is neither an event stream nor a JSON object";
    return;
  }
  if (auto err = obj.find("error"); err != obj.end() && !err->is_null()) {
    error_ = ErrorText(*err);
    return;
  }
  if (auto usage = obj.find("usage"); usage != obj.end()) ReadUsage(*usage, &usage_);
  auto choices = obj.find("choices");
  if (choices == obj.end() || !choices->is_array() || choices->empty()) return;
  const nlohmann::json& choice = (*choices)[0];
  if (!choice.is_object()) return;
  if (auto msg = choice.find("message"); msg != choice.end() && msg->is_object()) {
    const size_t n = TextLength(*msg, "content");
    if (n > 0) {
      first_token_s_ = last_token_s_ = now_s;
      content_chunks_ = 1;
      output_chars_ = static_cast<int64_t>(n);
    }
  }
  if (auto fr = choice.find("finish_reason"); fr != choice.end() && fr->is_string()) {
    finish_reason_ = fr->get<std::string>();
  }
  done_ = true;
}

}  // namespace cellar::replay
