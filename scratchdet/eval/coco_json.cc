#include "scratchdet/eval/coco_json.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "scratchdet/core/atomic_file.h"
#include "scratchdet/core/error.h"
#include "scratchdet/data/coco_file.h"

namespace scratchdet::eval {

namespace {

using nlohmann::json;

json Parse(const std::string& path) {
  const std::string text = ReadFile(path);
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for a number such as 1e999 ("number overflow").
    Fail("{}: malformed JSON: {}", path, e.what());
  }
}

// Reads fields of one entry; `where` is e.g. "annotations[3]".
class Entry {
 public:
  Entry(const std::string& path, std::string where, const json& value)
      : path_(path), where_(std::move(where)), value_(value) {
    if (!value_.is_object()) Fail("{}: {}: expected an object", path_, where_);
  }

  const json& Required(const char* key) const {
    const auto it = value_.find(key);
    if (it == value_.end()) Fail("{}: {}: missing '{}'", path_, where_, key);
    return *it;
  }

  int64_t Id(const char* key) const {
    const json& v = Required(key);
    if (!v.is_number_integer()) Fail("{}: {}: '{}' must be an integer", path_, where_, key);
    return v.get<int64_t>();
  }

  double Number(const char* key) const { return Number(key, Required(key)); }

  double Number(const char* key, const json& v) const {
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      Fail("{}: {}: '{}' must be a finite number", path_, where_, key);
    return v.get<double>();
  }

  std::string String(const char* key) const {
    const json& v = Required(key);
    if (!v.is_string()) Fail("{}: {}: '{}' must be a string", path_, where_, key);
    return v.get<std::string>();
  }

  // [x, y, w, h] with w, h >= 0.
  std::array<double, 4> Bbox() const {
    const json& v = Required("bbox");
    if (!v.is_array() || v.size() != 4)
      Fail("{}: {}: 'bbox' must be [x, y, width, height]", path_, where_);
    std::array<double, 4> box{};
    for (size_t i = 0; i < 4; ++i) box[i] = Number("bbox", v[i]);
    if (box[2] < 0 || box[3] < 0)
      Fail("{}: {}: 'bbox' has a negative width or height ({}, {})", path_, where_, box[2], box[3]);
    return box;
  }

  const json& value() const { return value_; }
  const std::string& where() const { return where_; }

 private:
  const std::string& path_;
  std::string where_;
  const json& value_;
};

}  // namespace

CocoInstances ReadCocoInstances(const std::string& path) {
  // The structure (ids, repeated ids, annotations of unknown images) as the dataset reads it.
  const data::CocoFile file = data::ReadCocoFile(path);
  CocoInstances out;
  out.path = path;
  std::unordered_set<int64_t> category_ids;
  for (size_t i = 0; i < file.image_ids.size(); ++i) {
    const Entry e(path, fmt::format("images[{}]", i), file.images()[i]);
    CocoImageInfo info;
    info.id = file.image_ids[i];
    if (e.value().contains("file_name")) info.file_name = e.String("file_name");
    if (e.value().contains("width")) info.width = static_cast<int>(e.Id("width"));
    if (e.value().contains("height")) info.height = static_cast<int>(e.Id("height"));
    out.images.push_back(std::move(info));
  }
  for (const auto& [id, name] : file.categories) {
    out.categories.push_back({id, name});
    category_ids.insert(id);
  }
  for (size_t i = 0; i < file.annotation_image_ids.size(); ++i) {
    const Entry e(path, fmt::format("annotations[{}]", i), file.annotations()[i]);
    CocoGroundTruth gt;
    gt.image_id = file.annotation_image_ids[i];
    gt.category_id = e.Id("category_id");
    if (category_ids.count(gt.category_id) == 0)
      Fail("{}: {}: unknown category_id {}", path, e.where(), gt.category_id);
    const auto box = e.Bbox();
    gt.x = box[0];
    gt.y = box[1];
    gt.w = box[2];
    gt.h = box[3];
    gt.area = e.Number("area");
    if (gt.area < 0) Fail("{}: {}: negative 'area' {}", path, e.where(), gt.area);
    if (e.value().contains("iscrowd")) {
      const int64_t crowd = e.Id("iscrowd");
      if (crowd != 0 && crowd != 1) Fail("{}: {}: 'iscrowd' must be 0 or 1", path, e.where());
      gt.iscrowd = crowd == 1;
    }
    out.annotations.push_back(gt);
  }
  return out;
}

std::vector<CocoDetection> ReadCocoResults(const std::string& path,
                                           const CocoInstances& instances) {
  const json root = Parse(path);
  if (!root.is_array()) Fail("{}: expected a JSON array of detections", path);
  std::unordered_set<int64_t> image_ids, category_ids;
  for (const auto& image : instances.images) image_ids.insert(image.id);
  for (const auto& category : instances.categories) category_ids.insert(category.id);
  std::vector<CocoDetection> out;
  out.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const Entry e(path, fmt::format("[{}]", i), root[i]);
    CocoDetection det;
    det.image_id = e.Id("image_id");
    if (image_ids.count(det.image_id) == 0)
      Fail("{}: {}: image_id {} is not in {}", path, e.where(), det.image_id, instances.path);
    det.category_id = e.Id("category_id");
    if (category_ids.count(det.category_id) == 0)
      Fail("{}: {}: category_id {} is not in {}", path, e.where(), det.category_id, instances.path);
    const auto box = e.Bbox();
    det.x = box[0];
    det.y = box[1];
    det.w = box[2];
    det.h = box[3];
    det.score = e.Number("score");
    out.push_back(det);
  }
  return out;
}

}  // namespace scratchdet::eval
