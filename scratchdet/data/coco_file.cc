#include "scratchdet/data/coco_file.h"

#include <fmt/format.h>

#include <unordered_set>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"

namespace scratchdet::data {
namespace {

using nlohmann::json;

const json& Array(const std::string& path, const json& root, const char* key) {
  const auto it = root.find(key);
  if (it == root.end()) Fail("{}: missing top-level '{}'", path, key);
  if (!it->is_array()) Fail("{}: '{}' must be an array", path, key);
  return *it;
}

const json& Field(const std::string& path, const std::string& where, const json& entry,
                  const char* key) {
  if (!entry.is_object()) Fail("{}: {}: expected an object", path, where);
  const auto it = entry.find(key);
  if (it == entry.end()) Fail("{}: {}: missing '{}'", path, where, key);
  return *it;
}

int64_t Integer(const std::string& path, const std::string& where, const json& entry,
                const char* key) {
  const json& v = Field(path, where, entry, key);
  if (!v.is_number_integer()) Fail("{}: {}: '{}' must be an integer", path, where, key);
  return v.get<int64_t>();
}

}  // namespace

CocoFile ReadCocoFile(const std::string& path) {
  CocoFile file;
  file.path = path;
  const std::string text = ReadFile(path);
  try {
    file.root = json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number such as 1e999 ("number overflow").
    Fail("{}: malformed JSON: {}", path, e.what());
  }
  if (!file.root.is_object()) Fail("{}: expected a COCO instances object", path);

  std::unordered_set<int64_t> image_ids, category_ids;
  const json& images = Array(path, file.root, "images");
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string where = fmt::format("images[{}]", i);
    const int64_t id = Integer(path, where, images[i], "id");
    if (!image_ids.insert(id).second) Fail("{}: {}: repeated image id {}", path, where, id);
    file.image_ids.push_back(id);
  }
  const json& categories = Array(path, file.root, "categories");
  for (size_t i = 0; i < categories.size(); ++i) {
    const std::string where = fmt::format("categories[{}]", i);
    const int64_t id = Integer(path, where, categories[i], "id");
    const json& name = Field(path, where, categories[i], "name");
    if (!name.is_string()) Fail("{}: {}: 'name' must be a string", path, where);
    if (!category_ids.insert(id).second)
      Fail("{}: {}: repeated category id {}", path, where, id);
    file.categories.emplace_back(id, name.get<std::string>());
  }
  const json& annotations = Array(path, file.root, "annotations");
  for (size_t i = 0; i < annotations.size(); ++i) {
    const std::string where = fmt::format("annotations[{}]", i);
    const int64_t image_id = Integer(path, where, annotations[i], "image_id");
    if (image_ids.count(image_id) == 0)
      Fail("{}: {}: unknown image_id {}", path, where, image_id);
    file.annotation_image_ids.push_back(image_id);
  }
  return file;
}

}  // namespace scratchdet::data
