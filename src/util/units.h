#pragma once
// Parsers for the contract's scalar formats. Pure, no allocation beyond the
// result, safe on hostile input of any length.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace keelson {

/// Exactly Go's time.ParseDuration: "500ms", "10s", "1h30m", "1.5h", ".5s",
/// "0", a leading sign ("+5s", "-2m3.4s"); units ns, us, µs (U+00B5), μs
/// (U+03BC), ms, s, m, h; the full int64 range of nanoseconds, overflow
/// refused. Callers that need a non-negative duration check the sign.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

/// Kubernetes quantities as a byte count, with apimachinery's syntax and
/// exact decimal arithmetic: "512Mi", "2Gi", "1G", "8.1k" (8100), "+1Ki",
/// "1e3", "1E" (10^18), "1Ei" (2^60), up to 9223372036854775807; a fraction
/// of a byte rounds up. Suffixes Ki Mi Gi Ti Pi Ei, k M G T P E, and e/E
/// exponents; the sub-unit suffixes (n, u, m) and negative values are
/// refused for bytes, as is anything beyond int64.
std::optional<int64_t> ParseMemoryQuantity(std::string_view text);

/// CPUs as a decimal ("1.5", "0.25", "2") or a Kubernetes milli-CPU ("500m");
/// returns nano-CPUs as the Engine API's NanoCpus wants them. Must be > 0.
std::optional<int64_t> ParseCpus(std::string_view text);

}  // namespace keelson
