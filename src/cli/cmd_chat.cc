// `cellar chat -m MODEL [--system TEXT]`: an interactive multi-turn chat on
// stdin/stdout (works with stdin piped: one user message per line).
//
// Each turn renders the whole conversation with the model's chat template,
// tokenizes it, keeps the KV of the longest common token prefix with what the
// session already holds and prefills only the rest; then streams the reply.
// Per turn, a stats line goes to stderr:
//   [chat] turn N: prompt P tokens (R reused, F prefilled) | TTFT x ms | G tokens, y tok/s | finish
//   f
// Commands: /reset (forget the conversation), /exit. EOF (Ctrl-D) ends cleanly.
// --session NAME keeps the conversation (messages + KV, cli/chat_session_store.h)
// and resumes it when started again, prefilling only the new turn.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cli/chat_session_store.h"
#include "cli/cmd_generate_options.h"
#include "cli/commands.h"
#include "engine/generate.h"
#include "model/chat_template.h"

namespace cellar::cli {
namespace {

struct ChatArgs {
  ModelFlags model;
  SamplingFlags sampling;
  std::string system;
  int n_predict = 512;
  std::string session;    // --session: resume/persist (cli/chat_session_store.h)
  std::string store_dir;  // --store-dir
};

using Message = ChatMessage;

// Turns the conversation into prompt text with the model's chat template
// (tokenizer.chat_template; ChatML when the file has none).
class Renderer {
 public:
  static Result<Renderer> Create(const Model& model) {
    CELLAR_ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::FromGguf(model.gguf()));
    Renderer r(std::move(t));
    auto texts = ChatTokenTextsFromGguf(model.gguf());
    if (texts.ok()) r.texts_ = *texts;
    return r;
  }

  Result<std::string> Render(const std::vector<Message>& messages) const {
    ChatTemplateInputs in;
    in.messages = nlohmann::ordered_json::array();
    for (const auto& m : messages) {
      in.messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    in.add_generation_prompt = true;
    in.bos_token = texts_.bos_token;
    in.eos_token = texts_.eos_token;
    return template_.Render(in);
  }

  bool is_fallback() const { return template_.is_fallback(); }

 private:
  explicit Renderer(ChatTemplate t) : template_(std::move(t)) {}
  ChatTemplate template_;
  ChatTokenTexts texts_;
};

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

int RunChat(const ChatArgs& args) {
  auto rt = StartRuntime(args.model, /*need_tokenizer=*/true);
  if (!rt.ok()) return ReportError("chat", rt.status());
  LocalSession& session = *rt->session;
  const Tokenizer& tok = *rt->tokenizer;
  auto renderer = Renderer::Create(*rt->model);
  if (!renderer.ok()) return ReportError("chat", renderer.status());
  const bool interactive = isatty(STDIN_FILENO) != 0;

  std::vector<Message> messages;
  if (!args.system.empty()) messages.push_back({"system", args.system});
  std::unique_ptr<ChatSessionStore> saved;  // --session
  if (!args.session.empty()) {
    auto s = ChatSessionStore::Open({args.session, args.store_dir}, *rt->model, &session);
    if (!s.ok()) return ReportError("chat", s.status());
    saved = std::move(*s);
    if (!saved->messages().empty()) messages = saved->messages();
    std::fprintf(stderr, "[chat] session %s: %zu messages\n", args.session.c_str(),
                 saved->messages().size());
  }
  GenerateOptions gen;
  gen.sampling = args.sampling.params;
  gen.stop = args.sampling.stop;
  if (renderer->is_fallback()) {
    std::fprintf(stderr, "[chat] the model has no chat template; using ChatML\n");
  }

  int turn = 0;
  std::string line;
  for (;;) {
    if (interactive) {
      std::fprintf(stderr, "> ");
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) break;  // EOF / Ctrl-D
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      messages.resize(args.system.empty() ? 0 : 1);
      if (saved) (void)saved->Save(messages);
      std::fprintf(stderr, "[chat] conversation reset\n");
      continue;
    }
    messages.push_back({"user", line});
    auto text = renderer->Render(messages);
    if (!text.ok()) {
      messages.pop_back();
      ReportError("chat", text.status());
      continue;
    }
    // The template writes special tokens as text; BOS is added unless it already did.
    std::vector<int32_t> ids = tok.Encode(*text, /*add_special=*/false, /*parse_special=*/true);
    const Vocab& vocab = tok.vocab();
    if (vocab.add_bos() && vocab.bos() >= 0 && (ids.empty() || ids[0] != vocab.bos())) {
      ids.insert(ids.begin(), vocab.bos());
    }
    if (static_cast<int64_t>(ids.size()) >= session.n_ctx()) {
      messages.pop_back();
      std::fprintf(stderr,
                   "[chat] context full: the conversation needs %zu tokens but the context holds "
                   "%d; /reset to start over or raise -c\n",
                   ids.size(), session.n_ctx());
      continue;
    }
    ++turn;
    const auto t0 = std::chrono::steady_clock::now();
    if (saved) saved->Restore(ids);  // the stored prefix of a resumed session
    auto fed = session.FeedWithPrefixReuse(ids);
    if (!fed.ok()) return ReportError("chat", fed.status());
    gen.max_tokens = std::min<int64_t>(args.n_predict, session.n_ctx() - session.n_past());
    std::chrono::steady_clock::time_point t_first;
    bool first = true;
    auto result = Generate(session, tok, fed->logits, gen, [&](const GeneratedToken& t) {
      if (first) {
        t_first = std::chrono::steady_clock::now();
        first = false;
      }
      if (!t.text.empty()) {
        std::fwrite(t.text.data(), 1, t.text.size(), stdout);
        std::fflush(stdout);
      }
      return true;
    });
    const auto t_end = std::chrono::steady_clock::now();
    if (!result.ok()) return ReportError("chat", result.status());
    std::printf("\n");
    std::fflush(stdout);
    messages.push_back({"assistant", result->text});
    if (saved) {
      if (Status st = saved->Save(messages); !st.ok()) ReportError("chat", st);
    }
    const size_t n_gen = result->ids.size();
    const double gen_ms = first ? 0.0 : Ms(t_end - t_first);
    std::fprintf(stderr,
                 "[chat] turn %d: prompt %zu tokens (%d reused, %d prefilled) | TTFT %.1f ms | "
                 "%zu tokens, %.1f tok/s | finish %s\n",
                 turn, ids.size(), fed->n_reused, fed->n_fed, first ? 0.0 : Ms(t_first - t0), n_gen,
                 n_gen > 1 && gen_ms > 0 ? (n_gen - 1) / (gen_ms / 1000.0) : 0.0,
                 std::string(FinishReasonName(result->finish)).c_str());
    if (result->finish == FinishReason::kContextFull) {
      std::fprintf(stderr, "[chat] the context of %d tokens is full; /reset to start over\n",
                   session.n_ctx());
    }
  }
  if (interactive) std::fprintf(stderr, "\n");
  return 0;
}

void RegisterChatCommand(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  auto* cmd = app.add_subcommand(
      "chat", "Chat with a model on stdin/stdout, keeping the conversation's KV between turns");
  AddModelFlags(cmd, &args->model);
  AddSamplingFlags(cmd, &args->sampling);
  cmd->add_option("--system", args->system, "System message");
  cmd->add_option("-n,--n-predict", args->n_predict, "Tokens per reply at most");
  cmd->add_option("--session", args->session,
                  "Keep the conversation (messages and KV) under this name and resume it "
                  "when started again");
  cmd->add_option("--store-dir", args->store_dir,
                  "Store folder for --session (default: $XDG_CACHE_HOME/cellar, else "
                  "~/.cache/cellar)");
  cmd->callback([args] { Exit(RunChat(*args)); });
}

}  // namespace

CELLAR_REGISTER_COMMAND(21, RegisterChatCommand);

}  // namespace cellar::cli
