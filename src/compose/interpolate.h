#pragma once
// Variable interpolation in compose files, as docker compose v2 does it
// (compose-go's template package, following the Compose Specification's
// "Interpolation" section): $NAME and ${NAME}; ${NAME:-default} (unset or
// empty) and ${NAME-default} (unset); ${NAME:?message} and ${NAME?message}
// (an error); ${NAME:+replacement} and ${NAME+replacement}; $$ for a
// literal $. Defaults, messages and replacements are interpolated in turn.
// Within braces the first operator that appears decides ("${A-x:?y}" is a
// default of "x:?y").

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace keelson::compose {

/// A variable's value; nullopt when unset.
using Lookup = std::function<std::optional<std::string>(const std::string& name)>;

/// kInvalid "Invalid template: \"...\"" for a malformed one ("${", "${ foo}",
/// "$1"...), or "required variable NAME is missing a value[: message]".
Result<std::string> Interpolate(std::string_view text, const Lookup& lookup);

/// A .env file as docker compose reads it: NAME=value lines, blank lines
/// and # comments, an optional "export " prefix; 'single quotes' keep the
/// text as it is, "double quotes" take \n, \t, \", \\ and $ interpolation,
/// unquoted values are trimmed, lose a " #" comment, and interpolate.
/// Earlier lines and `lookup` (the environment) answer the variables.
/// kInvalid "LINE: ..." for a line that is none of these.
Result<std::map<std::string, std::string>> ParseDotEnv(std::string_view text, const Lookup& lookup);

}  // namespace keelson::compose
