#pragma once
// The OpenAPI documents of keelson's kinds, generated from the embedded
// crds/ as kube-apiserver publishes custom resources: /openapi/v2 (Swagger
// 2.0, in JSON, or in the protobuf encoding of gnostic's openapi.v2.Document
// that kubectl asks for before apply, create, replace, edit and explain),
// and /openapi/v3 (its discovery, and one document for keelson.dev/v1alpha1).
// Each kind is a definition named "dev.keelson.v1alpha1.KIND" carrying
// x-kubernetes-group-version-kind; metadata refers to ObjectMeta.

#include <string>

#include <nlohmann/json.hpp>

namespace keelson::api {

/// The Swagger 2.0 document (built once per process).
const nlohmann::json& OpenApiV2();
/// OpenApiV2() as a serialized openapi.v2.Document (built once per process).
const std::string& OpenApiV2Protobuf();
/// The OpenAPI 3.0 document of keelson.dev/v1alpha1 (built once per process).
const nlohmann::json& OpenApiV3();

/// The protobuf encoding of a Swagger 2.0 schema object (openapi.v2.Schema);
/// public for tests.
std::string EncodeSchema(const nlohmann::json& schema);

inline constexpr const char* kOpenApiV2ProtobufType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

}  // namespace keelson::api
