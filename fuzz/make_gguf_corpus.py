#!/usr/bin/env python3
"""Builds the seed corpus for fuzz/gguf_fuzzer (see docs/FUZZING.md).

Usage: fuzz/make_gguf_corpus.py OUT_DIR [SHARED_DIR]

Writes small valid GGUF files covering every metadata value type, nested arrays,
several tensor types, a non-default alignment and version 2, plus 4 KiB and 64 KiB
prefixes of every .gguf file under SHARED_DIR (default ../shared), whose real
headers (token arrays, tensor infos) the fuzzer then mutates. Standard library only.
"""
import os
import struct
import sys

U8, I8, U16, I16, U32, I32, F32, BOOL, STR, ARR, U64, I64, F64 = range(13)
SCALAR = {U8: "B", I8: "b", U16: "H", I16: "h", U32: "I", I32: "i", F32: "f",
          BOOL: "?", U64: "Q", I64: "q", F64: "d"}


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(b)) + b


def body(vtype, value):
    if vtype == STR:
        return s(value)
    if vtype == ARR:
        etype, items = value
        out = struct.pack("<IQ", etype, len(items))
        return out + b"".join(body(etype, item) for item in items)
    return struct.pack("<" + SCALAR[vtype], value)


def gguf(kvs, tensors=(), version=3, align=32):
    """kvs: [(key, type, value)]; tensors: [(name, dims, ggml_type, nbytes)]."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs))
    for key, vtype, value in kvs:
        out += s(key) + struct.pack("<I", vtype) + body(vtype, value)
    offset, data = 0, b""
    for name, dims, gtype, nbytes in tensors:
        out += s(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<q", d) for d in dims)
        out += struct.pack("<IQ", gtype, offset)
        chunk = bytes((i * 7) & 0xFF for i in range(nbytes))
        chunk += b"\0" * (-len(chunk) % align)
        data += chunk
        offset += len(chunk)
    if tensors:
        out += b"\0" * (-len(out) % align)
    return out + data


def main():
    out_dir = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else "../shared"
    os.makedirs(out_dir, exist_ok=True)
    every_type = [
        ("general.architecture", STR, "llama"), ("u8", U8, 200), ("i8", I8, -3),
        ("u16", U16, 60000), ("i16", I16, -2), ("u32", U32, 7), ("i32", I32, -9),
        ("f32", F32, 1.5), ("bool", BOOL, True), ("u64", U64, 1 << 40), ("i64", I64, -1),
        ("f64", F64, 2.5), ("tokenizer.ggml.tokens", ARR, (STR, ["<s>", "</s>", "a", "b"])),
        ("tokenizer.ggml.scores", ARR, (F32, [0.0, -1.0, -2.0, -3.0])),
        ("tokenizer.ggml.token_type", ARR, (I32, [3, 3, 1, 1])),
        ("tokenizer.ggml.bos_token_id", U32, 0),
        ("nested", ARR, (ARR, [(U8, [1, 2]), (STR, ["x"]), (ARR, [(BOOL, [True])])])),
    ]
    tensors = [("tok", [8, 4], 0, 128), ("q8", [32, 2], 8, 68), ("q4k", [256], 12, 144),
               ("f16", [4], 1, 8), ("empty", [0, 3], 0, 0)]
    seeds = {
        "every_type.gguf": gguf(every_type),
        "tensors.gguf": gguf(every_type[:1], tensors),
        "align64_v2.gguf": gguf([("general.alignment", U32, 64)] + every_type[:3], tensors[:2],
                                version=2, align=64),
        "empty.gguf": gguf([]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    for root, _, files in os.walk(shared):
        for name in sorted(files):
            if not name.endswith(".gguf"):
                continue
            with open(os.path.join(root, name), "rb") as f:
                head = f.read(65536)
            for n in (4096, 65536):
                with open(os.path.join(out_dir, "%s.%d" % (name, n)), "wb") as f:
                    f.write(head[:n])


if __name__ == "__main__":
    main()
