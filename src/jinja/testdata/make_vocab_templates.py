#!/usr/bin/env python3
"""Regenerates vocab_templates.json: the chat templates of ../shared/vocab/*.gguf
rendered by Python Jinja2 in transformers' environment (same setup as
make_conformance.py) for a few conversations, with the file's own bos/eos token
texts. cli_template_test runs `cellar template -m FILE` on each and compares.

    cd src/jinja/testdata && python3 make_vocab_templates.py ../../../../shared/vocab \
        > vocab_templates.json
"""
import glob
import json
import os
import struct
import sys

from make_conformance import env  # the transformers-like environment


def read_gguf_metadata(path):
    """Minimal GGUF v2/v3 metadata reader (standard library only)."""
    with open(path, "rb") as f:
        data = f.read()
    pos = 0

    def take(fmt):
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return vals[0]

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q",
              12: "d"}

    def value(t):
        if t in scalar:
            return take(scalar[t])
        if t == 8:
            return string()
        if t == 9:
            et = take("I")
            n = take("Q")
            return [value(et) for _ in range(n)]
        raise ValueError("bad type %d" % t)

    assert data[:4] == b"GGUF"
    pos = 4
    take("I")  # version
    take("Q")  # tensors
    n_kv = take("Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("I"))
    return meta


CONVERSATIONS = [
    ("single_user", [{"role": "user", "content": "Hello, who are you?"}], True),
    ("system_multiturn", [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Ünïcödé 😀 \"quotes\" and {{ braces }}\n  spaced  "},
    ], True),
    ("assistant_last", [
        {"role": "user", "content": "2+2?"},
        {"role": "assistant", "content": "4"},
    ], False),
]


def main():
    vocab_dir = sys.argv[1]
    out = []
    for path in sorted(glob.glob(os.path.join(vocab_dir, "*.gguf"))):
        meta = read_gguf_metadata(path)
        tmpl = meta.get("tokenizer.chat_template")
        if tmpl is None:
            continue
        tokens = meta["tokenizer.ggml.tokens"]
        bos = tokens[meta["tokenizer.ggml.bos_token_id"]]
        eos = tokens[meta["tokenizer.ggml.eos_token_id"]]
        cases = []
        for name, messages, gen in CONVERSATIONS:
            case = {"name": name, "messages": messages, "add_generation_prompt": gen}
            try:
                case["expected"] = env.from_string(tmpl).render(
                    messages=messages, tools=None, documents=None, add_generation_prompt=gen,
                    bos_token=bos, eos_token=eos)
            except Exception as e:  # noqa: BLE001
                case["expected_error"] = str(e)
            cases.append(case)
        out.append({"file": os.path.basename(path), "bos_token": bos, "eos_token": eos,
                    "cases": cases})
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
