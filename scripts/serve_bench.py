#!/usr/bin/env python3
"""Serving benchmark: `cellar serve` against llama.cpp's `llama-server`, side by side.

For each server (started by this script, one at a time, same model file, same
thread count) it measures, over the OpenAI /v1/completions endpoint with
streaming and greedy sampling:

  * aggregate decode throughput at 1, 4 and 8 concurrent streams: every
    stream generates exactly --gen tokens (ignore_eos) from its own short
    prompt; throughput = sum(tokens after the first) / (last token of any
    stream - first token of any stream);
  * TTFT of a 512-token prompt on an idle server, and while 4 streams decode
    (it arrives once all 4 have produced tokens for a second). The background
    streams generate at most --bg-gen tokens, so a server with fixed slots
    (llama-server --parallel 4: all four taken) still serves the probe once a
    slot frees; such a probe is reported as having waited for a slot.

Prompts are token-id lists (exact lengths; random ids, different per request,
so neither server's prefix cache helps). Standard library only.

  scripts/serve_bench.py --model /work/models/tinyllama-q8_0.gguf \
      --cellar build/release/cellar \
      --llama-server /work/ext/llama.cpp/build/bin/llama-server --threads 2
"""
import argparse
import atexit
import http.client
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

rng = random.Random(1234)
TOKEN_IDS = [300, 31000]  # range of the random prompt ids (--token-ids)


def random_prompt(n):
    return [1] + [rng.randrange(*TOKEN_IDS) for _ in range(n - 1)]


class Stream:
    """One streamed /v1/completions request on its own connection."""

    def __init__(self, port, prompt, max_tokens):
        self.port, self.prompt, self.max_tokens = port, prompt, max_tokens
        self.t_send = self.t_first = self.t_last = self.t_done = None
        self.n_chunks = 0
        self.error = None
        self.conn = None

    def run(self):
        try:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            body = json.dumps({"prompt": self.prompt, "max_tokens": self.max_tokens,
                               "temperature": 0, "stream": True, "ignore_eos": True})
            self.t_send = time.monotonic()
            self.conn.request("POST", "/v1/completions", body,
                              {"Content-Type": "application/json"})
            resp = self.conn.getresponse()
            if resp.status != 200:
                self.error = f"HTTP {resp.status}: {resp.read()[:200]!r}"
                return
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                j = json.loads(line[6:])
                if not j.get("choices"):
                    continue
                c = j["choices"][0]
                if c.get("text") or (c.get("finish_reason") is None):
                    now = time.monotonic()
                    if self.t_first is None:
                        self.t_first = now
                    self.t_last = now
                    self.n_chunks += 1
            self.t_done = time.monotonic()
        except Exception as e:  # closed by close() or a failure
            if self.error is None:
                self.error = repr(e)

    def close(self):
        try:
            if self.conn is not None and self.conn.sock is not None:
                self.conn.sock.close()
        except OSError:
            pass


def run_streams(streams):
    threads = [threading.Thread(target=s.run) for s in streams]
    for t in threads:
        t.start()
    return threads


def decode_throughput(port, n_streams, gen):
    streams = [Stream(port, random_prompt(8), gen) for _ in range(n_streams)]
    for t in run_streams(streams):
        t.join()
    bad = [s.error for s in streams if s.error or s.t_first is None]
    if bad:
        raise RuntimeError(f"stream failed: {bad[0]}")
    first = min(s.t_first for s in streams)
    last = max(s.t_last for s in streams)
    return n_streams * (gen - 1) / (last - first)


def ttft(port, prompt_len, background, bg_gen):
    """TTFT of a prompt_len-token prompt while `background` streams decode.

    Returns (seconds, waited): waited is True when the probe's first token came
    after a background stream had ended (it waited for a free slot)."""
    bg = [Stream(port, random_prompt(8), bg_gen) for _ in range(background)]
    bg_threads = run_streams(bg)
    deadline = time.monotonic() + 600
    while background and not all(s.t_first for s in bg):
        if time.monotonic() > deadline or any(s.error for s in bg):
            raise RuntimeError("background streams did not start")
        time.sleep(0.05)
    if background:
        time.sleep(1.0)
    probe = Stream(port, random_prompt(prompt_len), 2)
    probe.run()
    if any(s.t_done is not None and s.t_done < probe.t_send for s in bg):
        raise RuntimeError("a background stream ended before the probe: raise --bg-gen")
    # A background stream ended while the probe waited for its first token.
    waited = probe.t_first is not None and any(
        s.t_done is not None and s.t_done < probe.t_first for s in bg)
    for s in bg:
        s.close()
    for t in bg_threads:
        t.join()
    if probe.error or probe.t_first is None:
        raise RuntimeError(f"probe failed: {probe.error}")
    return probe.t_first - probe.t_send, waited


def wait_ready(port, proc, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/health")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError("server not ready")


def bench(name, cmd, port, args, only_ttft_load=False):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, proc)
        ttft(port, 16, 0, 0)  # warm up
        out = {}
        for n in ([] if only_ttft_load else args.streams):
            runs = [decode_throughput(port, n, args.gen) for _ in range(args.repeat)]
            out[f"decode_{n}"] = runs
            print(f"{name}: {n} stream(s): {' '.join(f'{r:.1f}' for r in runs)} tok/s",
                  flush=True)
        for bgn in ((4,) if only_ttft_load else (0, 4)):
            runs = [ttft(port, args.ttft_prompt, bgn, args.bg_gen) for _ in range(args.repeat)]
            out[f"ttft_{bgn}"] = [r[0] for r in runs]
            out[f"waited_{bgn}"] = sum(r[1] for r in runs)
            print(f"{name}: TTFT {args.ttft_prompt} tokens, {bgn} streams decoding: "
                  f"{' '.join(f'{r[0]:.2f}' + (' (waited for a slot)' if r[1] else '') for r in runs)} s",
                  flush=True)
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True)
    p.add_argument("--cellar", required=True)
    p.add_argument("--llama-server", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--gen", type=int, default=64, help="tokens per decode stream")
    p.add_argument("--ttft-prompt", type=int, default=512)
    p.add_argument("--streams", type=int, nargs="+", default=[1, 4, 8])
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--port", type=int, default=18500)
    p.add_argument("--bg-gen", type=int, default=128,
                   help="tokens per background stream of the TTFT-under-load probe")
    p.add_argument("--llama-parallel", type=int, default=4,
                   help="llama-server --parallel (slots; context 2048 tokens each)")
    p.add_argument("--llama-ttft-parallel", type=int, default=0,
                   help="also measure llama-server's TTFT under load with this many slots "
                        "(e.g. 5: the probe gets a free slot); 0: no")
    p.add_argument("--token-ids", type=int, nargs=2, default=list(TOKEN_IDS),
                   help="random prompt ids are drawn from [A, B) (a small vocabulary: 3 512)")
    args = p.parse_args()
    TOKEN_IDS[:] = args.token_ids
    t = str(args.threads)
    store_dir = tempfile.mkdtemp(prefix="serve-bench-store-")
    atexit.register(shutil.rmtree, store_dir, True)
    servers = [
        ("llama.cpp", [args.llama_server, "-m", args.model, "-t", t, "-tb", t,
                       "--parallel", str(args.llama_parallel),
                       "-c", str(2048 * args.llama_parallel), "--port", str(args.port),
                       "--host", "127.0.0.1"], args.port),
        # A fresh, empty store directory: the prompts repeat from run to run
        # (seeded), and a store kept from an earlier run would serve them.
        ("cellar", [args.cellar, "serve", "-m", args.model, "-t", t,
                    "--store-dir", store_dir,
                    "--port", str(args.port + 1)], args.port + 1),
    ]
    results = {}
    for name, cmd, port in servers:
        print(f"{name}: {' '.join(cmd)}", flush=True)
        results[name] = bench(name, cmd, port, args)
    extra = None
    if args.llama_ttft_parallel:
        n = args.llama_ttft_parallel
        cmd = [args.llama_server, "-m", args.model, "-t", t, "-tb", t, "--parallel", str(n),
               "-c", str(2048 * n), "--port", str(args.port + 2), "--host", "127.0.0.1"]
        name = f"llama.cpp --parallel {n}"
        print(f"{name}: {' '.join(cmd)}", flush=True)
        extra = (name, bench(name, cmd, args.port + 2, args, only_ttft_load=True))
    print("\n| metric | llama.cpp | cellar | cellar / llama.cpp |\n|---|---|---|---|")
    for key in results["cellar"]:
        if key.startswith("waited"):
            continue
        a = statistics.median(results["llama.cpp"][key])
        b = statistics.median(results["cellar"][key])
        label = (f"decode tok/s, {key.split('_')[1]} stream(s)" if key.startswith("decode")
                 else f"TTFT s, {args.ttft_prompt}-token prompt, {key.split('_')[1]} streams decoding")
        if key.startswith("ttft"):
            w = key.replace("ttft", "waited")
            label += "".join(f" ({n}: {results[n][w]}/{args.repeat} waited for a slot)"
                             for n in results if results[n][w])
        print(f"| {label} | {a:.2f} | {b:.2f} | {b / a:.2f} |")
        if extra is not None and key in extra[1]:
            c = statistics.median(extra[1][key])
            w = extra[1][key.replace("ttft", "waited")]
            print(f"| same, llama.cpp as `{extra[0]}`" + (f" ({w}/{args.repeat} waited for a slot)" if w else "")
                  + f" | {c:.2f} | {b:.2f} | {b / c:.2f} |")
    if extra is not None:
        results[extra[0]] = extra[1]
    json.dump(results, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
