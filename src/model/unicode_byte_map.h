// The byte <-> code point table of byte-level BPE (GPT-2's bytes_to_unicode):
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in
// byte order, so every byte has a visible, non-space character.
//
// Thread-safety: the tables are built once (function-local statics) and immutable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cellar::unicode {

// The code point that byte `b` is written as in a byte-level BPE vocabulary.
char32_t ByteToCodepoint(uint8_t b);
// Its UTF-8 form (what the vocabulary's strings contain).
std::string_view ByteToUtf8(uint8_t b);
// The byte a code point stands for, or nullopt when it is not one of the 256.
std::optional<uint8_t> CodepointToByte(char32_t cp);

}  // namespace cellar::unicode
