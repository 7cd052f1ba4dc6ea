#pragma once
// Result<T>: a value or an Error, shaped like std::expected (C++23), used across
// module boundaries instead of exceptions.

#include <string>
#include <utility>
#include <variant>

namespace keelson {

/// What kind of failure an Error is. Callers decide on retry from this alone:
/// kUnavailable and kTimeout are transient (retry with backoff); the rest are
/// terminal for the same input.
enum class ErrorCode {
  kInvalid,       ///< bad input: a manifest, a flag, a spec the engine rejects
  kNotFound,      ///< the named object does not exist
  kConflict,      ///< exists already, or in use
  kUnauthorized,  ///< credentials missing or refused
  kUnavailable,   ///< engine or store unreachable or busy: transient
  kTimeout,       ///< gave up waiting: transient
  kStorage,       ///< the store cannot be read or written (corrupt, not a database, I/O, full, read-only)
  kInternal,      ///< a bug or an unexpected state
};

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;  ///< leads with context: "store: open /x/state.db: locked"

  bool transient() const { return code == ErrorCode::kUnavailable || code == ErrorCode::kTimeout; }
};

inline Error MakeError(ErrorCode code, std::string message) { return Error{code, std::move(message)}; }

/// Wraps an Error so that `return Unexpected(err);` reads like std::unexpected.
struct Unexpected {
  Error error;
  explicit Unexpected(Error e) : error(std::move(e)) {}
  Unexpected(ErrorCode code, std::string message) : error{code, std::move(message)} {}
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // By value, so `for (auto& x : *f())` extends the lifetime instead of dangling.
  T operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)), ok_(false) {}  // NOLINT

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace keelson
