#pragma once
// Text from outside keelson (a container's output) made safe to store and
// show: valid UTF-8, cut at character boundaries.

#include <string>
#include <string_view>

namespace keelson {

/// `s` with every byte that is not part of a valid UTF-8 sequence replaced
/// by U+FFFD.
std::string ValidUtf8(std::string_view s);

/// The longest prefix of valid UTF-8 `s` of at most `max_bytes` bytes that
/// ends on a character boundary.
std::string_view Utf8Prefix(std::string_view s, size_t max_bytes);
/// The same for a suffix.
std::string_view Utf8Suffix(std::string_view s, size_t max_bytes);

/// The last `n` lines of `text` (n < 0: all of it), as `tail -n` and the
/// engine's logs?tail= count them: a final newline ends the last line.
std::string LastLines(const std::string& text, int n);

/// An HTTP header line ("Name: value\r\n"): the name lower-cased and the
/// value without surrounding blanks. False for a line with no colon (a
/// status line, the blank line that ends the headers).
bool ParseHeaderLine(std::string_view line, std::string* name, std::string* value);

}  // namespace keelson
