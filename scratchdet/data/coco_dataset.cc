#include "scratchdet/data/coco_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "scratchdet/data/coco_file.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Boxes may overshoot the image by this much (float rounding in exported files).
constexpr double kEdgeTolerance = 1.0;

int64_t RequiredInt(const std::string& path, const json& entry, const char* key,
                    const std::string& where) {
  if (!entry.is_object() || !entry.contains(key) || !entry[key].is_number_integer())
    Fail("{}: {} has no integer \"{}\"", path, where, key);
  return entry[key].get<int64_t>();
}

}  // namespace

CocoDataset::CocoDataset(const CocoDatasetOptions& options)
    : InMemoryDataset(options.on_bad_sample, {}) {
  const std::string& path = options.annotation_file;
  const CocoFile file = ReadCocoFile(path);  // the structure, checked as the evaluator does
  // Classes in ascending category id: contiguous labels 0..C-1.
  std::map<int64_t, std::string> by_id(file.categories.begin(), file.categories.end());
  if (by_id.empty()) Fail("{}: COCO file has no categories", path);
  std::vector<std::string> names;
  for (const auto& [id, name] : by_id) {
    category_ids_.push_back(id);
    names.push_back(name);
  }
  SetClassNames(std::move(names));
  std::map<int64_t, int64_t> class_of_category;
  for (size_t c = 0; c < category_ids_.size(); ++c) class_of_category[category_ids_[c]] = c;

  struct Image {
    const json* entry;
    std::vector<const json*> annotations;
    size_t position;
  };
  std::map<int64_t, Image> images;  // ascending image id
  for (size_t i = 0; i < file.image_ids.size(); ++i)
    images.emplace(file.image_ids[i], Image{&file.images()[i], {}, i});
  for (size_t i = 0; i < file.annotation_image_ids.size(); ++i)
    images.at(file.annotation_image_ids[i]).annotations.push_back(&file.annotations()[i]);

  for (const auto& [image_id, image] : images) {
    const std::string where = fmt::format("images[{}] (id {})", image.position, image_id);
    try {
      const json& entry = *image.entry;
      if (!entry.contains("file_name") || !entry["file_name"].is_string())
        FailSample(BadSampleReason::kInvalidAnnotation, "{}: {} has no string \"file_name\"", path,
                   where);
      Sample record;
      const std::string file_name = entry["file_name"].get<std::string>();
      record.image_path = (fs::path(options.image_dir) / file_name).string();
      record.image_id = fs::path(file_name).stem().string();
      for (const char* key : {"width", "height"}) {
        if (!entry.contains(key) || !entry[key].is_number_integer() || entry[key].get<int>() <= 0)
          FailSample(BadSampleReason::kInvalidAnnotation, "{}: {} needs a positive integer \"{}\"",
                     path, where, key);
      }
      record.width = entry["width"].get<int>();
      record.height = entry["height"].get<int>();
      if (image.annotations.empty() && !options.allow_empty)
        FailSample(BadSampleReason::kEmptyAnnotation,
                   "{}: {} ({}) has no annotations (pass allow_empty to keep images without "
                   "objects)",
                   path, where, file_name);
      for (const json* annotation : image.annotations) {
        const std::string object = annotation->contains("id")
                                       ? fmt::format("annotation id {}", (*annotation)["id"].dump())
                                       : std::string("an annotation");
        const int64_t category = RequiredInt(path, *annotation, "category_id", object);
        const auto found = class_of_category.find(category);
        if (found == class_of_category.end())
          FailSample(BadSampleReason::kUnknownClass,
                     "{}: {} of image {} has category_id {}, which is not in \"categories\"", path,
                     object, image_id, category);
        const json& bbox = annotation->value("bbox", json());
        if (!bbox.is_array() || bbox.size() != 4 ||
            !std::all_of(bbox.begin(), bbox.end(), [](const json& v) { return v.is_number(); }))
          FailSample(BadSampleReason::kInvalidAnnotation,
                     "{}: {} of image {} needs \"bbox\": [x, y, w, h] numbers", path, object,
                     image_id);
        const double x = bbox[0], y = bbox[1], w = bbox[2], h = bbox[3];
        if (w <= 0 || h <= 0)
          FailSample(BadSampleReason::kInvalidAnnotation,
                     "{}: {} of image {} has an empty or negative box: w={} h={}", path, object,
                     image_id, w, h);
        if (x < -kEdgeTolerance || y < -kEdgeTolerance || x + w > record.width + kEdgeTolerance ||
            y + h > record.height + kEdgeTolerance)
          FailSample(BadSampleReason::kInvalidAnnotation,
                     "{}: {} of image {}: bbox [{}, {}, {}, {}] lies outside the {}x{} image", path,
                     object, image_id, x, y, w, h, record.width, record.height);
        const auto clip = [](double v, double hi) {
          return static_cast<float>(std::clamp(v, 0.0, hi));
        };
        record.boxes.push_back({clip(x, record.width), clip(y, record.height),
                                clip(x + w, record.width), clip(y + h, record.height)});
        record.labels.push_back(found->second);
        record.difficult.push_back(0);
        const json& crowd = annotation->value("iscrowd", json(0));
        if (!crowd.is_number_integer() && !crowd.is_boolean())
          FailSample(BadSampleReason::kInvalidAnnotation,
                     "{}: {} of image {}: \"iscrowd\" must be 0 or 1", path, object, image_id);
        record.crowd.push_back(crowd.is_boolean() ? crowd.get<bool>() : crowd.get<int64_t>() != 0);
      }
      if (!fs::is_regular_file(record.image_path))
        FailSample(BadSampleReason::kMissingImage, "{}: image file not found ({} of {})",
                   record.image_path, where, path);
      AddRecord(std::move(record));
      coco_image_ids_.push_back(image_id);
    } catch (const BadSampleError& error) {
      HandleBadSample(error, fmt::format("{}#{}", path, image_id));
    }
  }
  if (size() == 0)
    Fail("{}: COCO dataset has no usable images ({} skipped)", path, bad_samples().Total());
}

}  // namespace scratchdet::data
