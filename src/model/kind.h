#pragma once
// The kinds keelson manages and the names users may call them by.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace keelson::model {

inline constexpr std::string_view kGroup = "keelson.dev";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "keelson.dev/v1alpha1";

enum class Kind { kImage, kNetwork, kVolume, kRunner, kRunnerPool, kPolicy, kGitRepository };

/// A column of `keelson get` (as a CRD's additionalPrinterColumns): the
/// value at a dotted path of the object's document.
struct PrinterColumn {
  enum class Value {
    kField,   ///< the value at `path`
    kCount,   ///< how many entries the object at `path` has
    kImage,   ///< a Runner spec at `path`: its image, or image/IMAGEREF
    kReady,   ///< the Ready condition at the current generation: True, False, Unknown, -
    kStatus,  ///< one word: Terminating, the Ready reason, or Pending
    kDesired, ///< `path` (status.desiredReplicas, an autoscaled pool's) when set, else spec.replicas
  };
  std::string_view header;
  std::string_view path;  ///< "spec.ref", "status.readyReplicas"
  bool wide = false;      ///< only with -o wide
  Value value = Value::kField;
  std::string_view absent = "-";  ///< shown when there is no value
  size_t width = 0;               ///< cut to this many characters (ids); 0: whole
};

/// What each kind is, in one table: its names, where it holds a Runner spec,
/// which fields are files relative to the manifest, its columns. Code asks
/// this table instead of switching on the kind.
struct KindInfo {
  Kind kind;
  std::string_view name;        ///< "RunnerPool"
  std::string_view singular;    ///< "runnerpool"
  std::string_view plural;      ///< "runnerpools"
  std::string_view short_name;  ///< "pool"
  /// The dotted path of the Runner spec the kind carries ("spec",
  /// "spec.template"), "" for none: what Policies judge, whose env files are resolved.
  std::string_view runner_spec;
  /// Other fields naming an image Policies judge ("spec.ref").
  std::string_view image_field;
  /// Fields holding a path relative to the manifest file, made absolute at apply.
  std::span<const std::string_view> file_fields;
  std::span<const PrinterColumn> columns;
};

/// All kinds, in the order `get all` and the controller handle them
/// (dependencies first).
std::span<const KindInfo> AllKinds();
const KindInfo& Info(Kind kind);
/// Parses a kind as users type it: "RunnerPool", "runnerpool", "runnerpools" or
/// "pool" (case-insensitive). nullopt when unknown.
std::optional<Kind> ParseKind(std::string_view text);
/// The exact manifest spelling ("Runner") only.
std::optional<Kind> KindFromManifestName(std::string_view text);

}  // namespace keelson::model
