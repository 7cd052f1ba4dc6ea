#include "api/rate_limit.h"

#include <algorithm>
#include <chrono>

namespace keelson::api {

bool RateLimiter::Allow(const std::string& key, TimePoint now) {
  std::lock_guard lock(mu_);
  if (buckets_.size() >= kMaxKeys && !buckets_.count(key)) {
    // Forget the buckets that have refilled: they hold nothing a fresh one would not.
    std::erase_if(buckets_, [&](const auto& kv) {
      const double elapsed = std::chrono::duration<double>(now - kv.second.at).count();
      return kv.second.tokens + elapsed * rate_ >= burst_;
    });
    if (buckets_.size() >= kMaxKeys) return false;
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::max(0.0, std::chrono::duration<double>(now - b.at).count());
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.at = now;
  }
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace keelson::api
