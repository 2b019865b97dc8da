#!/usr/bin/env python3
"""Builds the seed corpus for fuzz/template_fuzzer (see docs/FUZZING.md).

Usage: fuzz/make_template_corpus.py OUT_DIR [SHARED_DIR]

One seed per golden case in SHARED_DIR/golden/templates (default ../shared): the
template source, a NUL byte, then the case's variables as JSON (messages, tools,
bos/eos, extra_context, add_generation_prompt); plus the snippets of
src/jinja/testdata/conformance.json (each construct of the supported subset) in the
same format. Standard library only.
"""
import glob
import json
import os
import sys


def seed(template, variables):
    return template.encode() + b"\0" + json.dumps(variables, ensure_ascii=False).encode()


def main():
    out_dir = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__),
                                                                  "..", "..", "shared")
    os.makedirs(out_dir, exist_ok=True)
    n = 0
    for path in sorted(glob.glob(os.path.join(shared, "golden", "templates", "*.json"))):
        with open(path, encoding="utf-8") as f:
            golden = json.load(f)
        for case in golden["cases"]:
            variables = {"messages": case["messages"], "bos_token": golden["bos_token"],
                         "eos_token": golden["eos_token"],
                         "add_generation_prompt": case["add_generation_prompt"]}
            if "tools" in case:
                variables["tools"] = case["tools"]
            if "extra_context" in case:
                variables["extra_context"] = case["extra_context"]
            name = "golden-%s-%s" % (os.path.basename(path)[:-5], case["name"])
            with open(os.path.join(out_dir, name), "wb") as f:
                f.write(seed(golden["template"], variables))
            n += 1
    conformance = os.path.join(os.path.dirname(__file__), "..", "src", "jinja", "testdata",
                               "conformance.json")
    with open(conformance, encoding="utf-8") as f:
        snippets = json.load(f)["cases"]
    for case in snippets:
        name = "snippet-" + case["name"].replace("/", "-")
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(seed(case["template"], case["vars"]))
        n += 1
    print("wrote %d seeds to %s" % (n, out_dir))


if __name__ == "__main__":
    main()
