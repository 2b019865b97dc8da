// Python str semantics on UTF-8 std::string: code point counting and indexing,
// Python's notion of whitespace, case mapping (ICU full mappings, like CPython),
// splitlines, HTML escaping (markupsafe), and repr() of a string.
//
// Every function takes and returns valid UTF-8 (the interpreter validates template
// source and input JSON once); on invalid bytes they never read out of bounds.
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cellar::jinja {

bool IsValidUtf8(std::string_view s);

// Decodes one code point at s[*pos] and advances *pos (invalid byte -> U+FFFD, 1 byte).
char32_t NextCodepoint(std::string_view s, size_t* pos);
void AppendUtf8(std::string& out, char32_t cp);
std::vector<char32_t> DecodeUtf8(std::string_view s);
std::string EncodeUtf8(const std::vector<char32_t>& cps);

// Number of code points (Python len()).
size_t CodepointCount(std::string_view s);
bool IsAscii(std::string_view s);

// Byte offset of every code point, plus s.size() at the end (size = len + 1).
std::vector<size_t> CodepointOffsets(std::string_view s);

// Python str.isspace() for one code point (also what `\s` matches in Python's re).
bool IsPySpace(char32_t cp);

// str.strip/lstrip/rstrip. `chars` = nullopt strips whitespace; otherwise the set of
// code points in `chars`.
std::string PyStrip(std::string_view s, const std::optional<std::string>& chars, bool left,
                    bool right);

// str.split(sep=None, maxsplit=-1) and str.rsplit. sep = nullopt splits on runs of
// whitespace. REQUIRES: sep, when given, is non-empty.
std::vector<std::string> PySplit(std::string_view s, const std::optional<std::string>& sep,
                                 int64_t maxsplit);
std::vector<std::string> PyRSplit(std::string_view s, const std::optional<std::string>& sep,
                                  int64_t maxsplit);

// str.splitlines(keepends).
std::vector<std::string> PySplitlines(std::string_view s, bool keepends);

// str.replace(old, new, count); count < 0 replaces all. Empty `old` inserts between
// code points as Python does.
std::string PyReplace(std::string_view s, std::string_view old, std::string_view repl,
                      int64_t count);

// Number of non-overlapping occurrences (str.count); empty needle -> len + 1.
size_t PyCount(std::string_view s, std::string_view needle);

// Case mapping with full Unicode mappings (ß -> SS), as CPython does.
std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
std::string PySwapcase(std::string_view s);
// str.casefold(): full Unicode case folding (ß -> ss).
std::string PyCasefold(std::string_view s);
// str.title(): first cased letter after an uncased one is titlecased, others lowered.
std::string PyTitle(std::string_view s);
// str.capitalize(): first code point titlecased, the rest lowered.
std::string PyCapitalize(std::string_view s);
bool PyIsLower(std::string_view s);
bool PyIsUpper(std::string_view s);
bool PyIsAlpha(std::string_view s);
bool PyIsAlnum(std::string_view s);
bool PyIsDigit(std::string_view s);
bool PyIsNumeric(std::string_view s);
bool PyIsSpaceStr(std::string_view s);

// markupsafe.escape: & < > ' " -> &amp; &lt; &gt; &#39; &#34;
std::string HtmlEscape(std::string_view s);

// repr() of a str: quotes chosen as Python does, escapes for \\ \n \r \t, the
// quote, and non-printable code points (\xNN, \uNNNN, \UNNNNNNNN).
std::string PyReprString(std::string_view s);

// Python float repr (shortest round-trip; 1e+16, 1e-05, inf, nan, 1.0).
std::string PyFloatRepr(double d);

}  // namespace cellar::jinja
