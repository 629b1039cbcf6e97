#include "scratchdet/model/backbone/backbone.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "scratchdet/core/error.h"

namespace scratchdet::model {

namespace {

struct Entry {
  BackboneBatchNorm batch_norm;
  BackboneFactory factory;
};

std::map<std::string, Entry>& Registry() {
  static std::map<std::string, Entry> registry;
  return registry;
}

const Entry& Find(const std::string& name) {
  const auto it = Registry().find(name);
  if (it == Registry().end())
    Fail("model config: key 'backbone' has unknown value '{}'; known: {}", name,
         fmt::join(BackboneNames(), ", "));
  return it->second;
}

}  // namespace

BackboneRegistrar::BackboneRegistrar(const std::string& name, BackboneBatchNorm batch_norm,
                                     BackboneFactory factory) {
  Registry()[name] = Entry{batch_norm, std::move(factory)};
}

std::vector<std::string> BackboneNames() {
  std::vector<std::string> names;
  for (const auto& [name, entry] : Registry()) names.push_back(name);
  return names;
}

bool ResolveBackboneBatchNorm(const std::string& name, const std::optional<bool>& requested) {
  const Entry& entry = Find(name);
  switch (entry.batch_norm) {
    case BackboneBatchNorm::kNever:
      if (requested.value_or(false))
        Fail("model config: key 'bn_backbone' = true, but backbone '{}' has no BatchNorm", name);
      return false;
    case BackboneBatchNorm::kAlways:
      if (!requested.value_or(true))
        Fail("model config: key 'bn_backbone' = false, but backbone '{}' always has BatchNorm",
             name);
      return true;
    case BackboneBatchNorm::kOptional:
      return requested.value_or(false);
  }
  return false;
}

std::shared_ptr<BackboneImpl> CreateBackbone(const BackboneOptions& options) {
  return Find(options.name()).factory(options);
}

}  // namespace scratchdet::model
