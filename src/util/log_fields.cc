#include "util/log_fields.h"

namespace keelson::logfields {
namespace {

thread_local Fields t_fields;

}  // namespace

Scope::Scope(Fields fields) : count_(fields.size()) {
  for (auto& f : fields) t_fields.push_back(std::move(f));
}

Scope::~Scope() { t_fields.resize(t_fields.size() - count_); }

const Fields& Current() { return t_fields; }

}  // namespace keelson::logfields
