#include "store/field_managers.h"

#include <nlohmann/json.hpp>

namespace keelson::store {

Result<std::map<std::string, std::set<std::string>>> FieldManagers::Load(const std::string& uid) {
  auto s = db_.Prepare("SELECT manager, fields FROM field_managers WHERE uid = ?");
  if (!s) return Unexpected(s.error());
  (*s)->Bind(1, uid);
  std::map<std::string, std::set<std::string>> out;
  while (true) {
    auto row = (*s)->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    auto fields = nlohmann::json::parse((*s)->Text(1), nullptr, false);
    if (!fields.is_array()) continue;
    auto& set = out[(*s)->Text(0)];
    for (const auto& f : fields) {
      if (f.is_string()) set.insert(f.get<std::string>());
    }
  }
  return out;
}

Result<void> FieldManagers::Save(const std::string& uid, const std::string& manager,
                                 const std::set<std::string>& fields) {
  if (fields.empty()) {
    auto s = db_.Prepare("DELETE FROM field_managers WHERE uid = ? AND manager = ?");
    if (!s) return Unexpected(s.error());
    return (*s)->Bind(1, uid).Bind(2, manager).Run();
  }
  auto s = db_.Prepare(
      "INSERT INTO field_managers VALUES (?, ?, ?, ?) ON CONFLICT (uid, manager) DO UPDATE SET fields = excluded.fields, "
      "time = excluded.time");
  if (!s) return Unexpected(s.error());
  return (*s)->Bind(1, uid).Bind(2, manager).Bind(3, nlohmann::json(fields).dump())
      .Bind(4, FormatTimestamp(clock_.Now())).Run();
}

}  // namespace keelson::store
