#!/usr/bin/env python3
"""Seed corpus for tokenizer_fuzzer from the llama.cpp tokenizer test inputs.

Usage: fuzz/make_tokenizer_corpus.py [SHARED_DIR] [OUT_DIR]
       (defaults: ../shared and fuzz/corpus-tokenizer)

Every input of every ../shared/vocab/*.inp file (separated by
"\\n__ggml_vocab_test__\\n") becomes seeds: one control byte (vocabulary index in
the low nibble, flags add_special/parse_special/render_special in 0x10/0x20/0x40;
see fuzz/tokenizer_fuzzer.cc) followed by the input text.
"""
import hashlib
import pathlib
import sys

SEP = b"\n__ggml_vocab_test__\n"


def main() -> None:
    shared = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared")
    out = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "fuzz/corpus-tokenizer")
    out.mkdir(parents=True, exist_ok=True)
    inputs = set()
    for inp in sorted((shared / "vocab").glob("*.inp")):
        for text in inp.read_bytes().split(SEP):
            inputs.add(text)
    n = 0
    for text in sorted(inputs):
        for control in (0x00, 0x01, 0x02, 0x03, 0x31, 0x72):
            seed = bytes([control]) + text
            (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
            n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
