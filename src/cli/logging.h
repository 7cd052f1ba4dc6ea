#pragma once
// spdlog set-up for --log-level and --log-format text|json.

#include <string>

namespace keelson::cli {

/// Logs go to stderr; json writes one object a line: {"time","level","msg"},
/// with the message escaped properly, and the structured fields in force
/// (util/log_fields.h: kind, namespace, name, action, reason, duration_ms).
void ConfigureLogging(const std::string& level, const std::string& format);

}  // namespace keelson::cli
