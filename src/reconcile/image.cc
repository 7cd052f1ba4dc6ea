// Image: an image present on the engine, pulled or built (and pushed).

#include "manifest/decode.h"
#include "reconcile/kinds_impl.h"
#include "reconcile/labels.h"
#include "reconcile/status.h"

namespace keelson::reconcile {

Result<Plan> ImageReconciler::PlanFor(const model::Object& o, const Memory& memory, World& world) const {
  auto spec = manifest::DecodeSpecAs<model::ImageSpec>(o);
  if (!spec) return Unexpected(spec.error());
  auto present = world.Image(spec->ref);
  if (!present) return Unexpected(present.error());
  ImageObserved observed;
  observed.image = std::move(*present);
  observed.generation = o.meta.generation;
  observed.built_generation = memory.built_generation;
  observed.pulled_at = memory.pulled_at;
  observed.recheck = world.ImageRecheck();
  observed.now = world.Now();
  return PlanImage(*spec, observed);
}

namespace {

// Another Image object that still wants `ref`.
Result<bool> WantedElsewhere(const model::Object& o, const std::string& ref, World& world) {
  auto images = world.List(model::Kind::kImage);
  if (!images) return Unexpected(images.error());
  for (const auto& other : *images) {
    if (other.meta.uid == o.meta.uid || other.meta.deletion_timestamp) continue;
    auto it = other.spec.find("ref");
    if (it != other.spec.end() && it->is_string() && it->get<std::string>() == ref) return true;
  }
  return false;
}

}  // namespace

Result<Plan> ImageReconciler::PlanDeletion(const model::Object& o, World& world) const {
  // Only an image keelson put on the engine, only while no container uses
  // it, and only if no other Image object still wants that reference.
  Plan plan;
  if (!o.status.is_object() || !o.status.value("createdOnEngine", false)) return plan;
  const std::string ref = TextField(o.spec, "ref");
  auto image = world.Image(ref);
  if (!image) return Unexpected(image.error());
  if (!*image) return plan;
  auto wanted = WantedElsewhere(o, ref, world);
  if (!wanted) return Unexpected(wanted.error());
  if (*wanted) return plan;
  auto users = world.AllContainers();
  if (!users) return Unexpected(users.error());
  auto store_id = world.StoreId();
  if (!store_id) return Unexpected(store_id.error());
  std::vector<std::string> ours, theirs;
  for (const auto& c : *users) {
    if (c.image_id != (*image)->id) continue;
    const bool mine = IsManaged(c.labels) && LabelValue(c.labels, kStoreLabel) == *store_id;
    (mine ? ours : theirs).push_back(c.name);
  }
  if (auto wait = WaitForContainers(ours, "image " + ref)) return *wait;
  if (!theirs.empty()) return plan;  // used by containers this store did not make: it stays
  plan.actions.push_back(RemoveImage{ref});
  return plan;
}

void ImageReconciler::Record(const model::Object& o, const Ledger& ledger, TimePoint now, Memory& memory,
                             nlohmann::json& status) const {
  if (ledger.built) memory.built_generation = o.meta.generation;
  if (ledger.pulled) memory.pulled_at = FormatTimestamp(now);
  // An image keelson brings onto the engine is its own: deleting the Image
  // object removes it again.
  if (ledger.brought_image) status["createdOnEngine"] = true;
}

void ImageReconciler::Status(const model::Object& o, const Plan*, bool, World& world, Memory&,
                             nlohmann::json& status) const {
  auto img = world.Image(TextField(o.spec, "ref"));
  if (!img || !*img) return;
  status["id"] = (*img)->id;
  status["size"] = (*img)->size;
  if (!(*img)->repo_digests.empty()) status["repoDigest"] = (*img)->repo_digests.front();
}

std::vector<Transition> ImageReconciler::Transitions(const nlohmann::json& before, const nlohmann::json& after) const {
  const std::string was = TextField(before, "repoDigest"), now = TextField(after, "repoDigest");
  if (was.empty() || was == now) return {};
  return {{"Normal", "DigestChanged", "repo digest " + was + " -> " + now}};
}

}  // namespace keelson::reconcile
