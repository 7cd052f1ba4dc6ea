#pragma once
// Parsers for the contract's scalar formats. Pure, no allocation beyond the
// result, safe on hostile input of any length.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace keelson {

/// Go-style durations: "500ms", "10s", "1h30m", "1.5h", "0". Units ns, us, µs,
/// ms, s, m, h. Negative durations and overflow are rejected.
std::optional<std::chrono::nanoseconds> ParseDuration(std::string_view text);

/// Kubernetes quantities as a byte count: "512Mi", "2Gi", "1G", "1048576",
/// "1.5Gi", "1e3". Suffixes Ki Mi Gi Ti Pi Ei, k M G T P E; "m" (milli) is not
/// allowed for bytes. Negative values and overflow of int64 are rejected.
std::optional<int64_t> ParseMemoryQuantity(std::string_view text);

/// CPUs as a decimal ("1.5", "0.25", "2") or a Kubernetes milli-CPU ("500m");
/// returns nano-CPUs as the Engine API's NanoCpus wants them. Must be > 0.
std::optional<int64_t> ParseCpus(std::string_view text);

}  // namespace keelson
