#pragma once
// Requests per client, bounded by token buckets (as kube-apiserver's
// max-requests-inflight and API priority and fairness keep one client from
// starving the others): each key (a user, or an address that failed to
// authenticate) gets `burst` requests at once and `rate` a second after.
// Thread-safe; the number of keys tracked is bounded.

#include <mutex>
#include <string>
#include <unordered_map>

#include "util/clock.h"

namespace keelson::api {

class RateLimiter {
 public:
  RateLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}
  /// Takes one request for `key`; false when its bucket is empty.
  bool Allow(const std::string& key, TimePoint now);

 private:
  struct Bucket {
    double tokens;
    TimePoint at;
  };
  static constexpr size_t kMaxKeys = 10000;
  double rate_, burst_;
  std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace keelson::api
