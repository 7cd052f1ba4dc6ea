#pragma once
// The keelson CLI over the Kubernetes-compatible API instead of the store
// file: when --kubeconfig (with --context) or --server (with --token,
// --certificate-authority) is given, get, apply, delete and scale talk to
// the API of a keelson on another host, with the same output and exit
// codes; the others say they need the store file.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/client.h"
#include "cli/context.h"
#include "model/object.h"
#include "store/object_store.h"

namespace keelson::cli {

/// True when the global flags name an API.
bool IsRemote(const Globals& g);
/// The client the global flags name. Errors name the kubeconfig or flag.
Result<std::unique_ptr<api::Client>> OpenRemote(const Globals& g);
/// For commands that work on the store file only: exit 2 and a line saying so.
int NotOverTheApi(const std::string& command);

/// What `get` reads objects from: the store, or the API.
class ObjectReader {
 public:
  virtual ~ObjectReader() = default;
  /// Ordered by kind, namespace, name.
  virtual Result<void> ForEach(const store::ListOptions& options, const std::function<void(model::Object&&)>& visit) = 0;
  virtual Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns, const std::string& name) = 0;
};

class StoreReader final : public ObjectReader {
 public:
  explicit StoreReader(store::ObjectStore& store) : store_(store) {}
  Result<void> ForEach(const store::ListOptions& o, const std::function<void(model::Object&&)>& visit) override {
    return store_.ForEach(o, visit);
  }
  Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns, const std::string& name) override {
    return store_.Get(kind, ns, name);
  }

 private:
  store::ObjectStore& store_;
};

class ApiReader final : public ObjectReader {
 public:
  explicit ApiReader(api::Client& client) : client_(client) {}
  Result<void> ForEach(const store::ListOptions& o, const std::function<void(model::Object&&)>& visit) override;
  Result<std::optional<model::Object>> Get(model::Kind kind, const std::string& ns, const std::string& name) override;

 private:
  api::Client& client_;
};

/// Where a reading command reads objects: over the API when the global
/// flags name one, else the store file (opened for `access`).
struct Reading {
  std::unique_ptr<Session> session;     ///< null over the API
  std::unique_ptr<api::Client> client;  ///< null on the file
  std::unique_ptr<ObjectReader> reader;
};
/// kInvalid for flags or a kubeconfig that name no usable API.
Result<Reading> OpenReading(const Globals& g, Access access);

/// /apis/keelson.dev/v1alpha1[/namespaces/NS]/PLURAL[/NAME]
std::string ApiPath(model::Kind kind, const std::optional<std::string>& ns, const std::string& name = "");
/// A failed answer as one line: the API's Status message.
Error ApiError(const api::Reply& reply);

}  // namespace keelson::cli
