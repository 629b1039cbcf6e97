#include "scratchdet/eval/voc_devkit.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "scratchdet/core/error.h"
#include "scratchdet/core/strings.h"
#include "scratchdet/data/voc_annotation.h"
#include "scratchdet/eval/voc_detection_file.h"

namespace scratchdet::eval {

namespace {

constexpr const char kClassPlaceholder[] = "{cls}";

}  // namespace

std::vector<std::string> ReadImageSet(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("{}: cannot open image set file", path);
  std::vector<std::string> ids;
  std::unordered_map<std::string, int> first_line;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    const std::string id(Trim(text));
    if (id.empty()) continue;
    if (id.find_first_of(" \t") != std::string::npos)
      Fail("{}:{}: expected one image id per line, got '{}'", path, line, id);
    const auto [it, inserted] = first_line.emplace(id, line);
    if (!inserted) Fail("{}:{}: image id '{}' repeats line {}", path, line, id, it->second);
    ids.push_back(id);
  }
  if (ids.empty()) Fail("{}: image set has no image ids", path);
  return ids;
}

std::vector<std::string> ParseClassList(const std::string& spec) {
  std::vector<std::string> names;
  std::string origin;
  std::error_code ec;
  if (std::filesystem::is_regular_file(spec, ec)) {
    std::ifstream in(spec);
    if (!in) Fail("{}: cannot open class list file", spec);
    for (std::string text; std::getline(in, text);) {
      const std::string name(Trim(text));
      if (!name.empty()) names.push_back(name);
    }
    origin = spec;
  } else {
    std::istringstream in(spec);
    for (std::string item; std::getline(in, item, ',');) {
      const std::string name(Trim(item));
      if (name.empty()) Fail("class list '{}': empty class name", spec);
      names.push_back(name);
    }
    origin = "class list '" + spec + "'";
  }
  if (names.empty()) Fail("{}: no class names", origin);
  std::unordered_set<std::string> seen;
  for (const auto& name : names)
    if (!seen.insert(name).second) Fail("{}: class '{}' is listed twice", origin, name);
  return names;
}

std::string DetectionFileForClass(const std::string& pattern, const std::string& class_name) {
  const size_t n = sizeof(kClassPlaceholder) - 1;
  if (pattern.find(kClassPlaceholder) == std::string::npos)
    Fail("detections pattern '{}' has no {} placeholder for the class name", pattern,
         kClassPlaceholder);
  std::string path = pattern;
  for (size_t at = path.find(kClassPlaceholder); at != std::string::npos;
       at = path.find(kClassPlaceholder, at + class_name.size()))
    path.replace(at, n, class_name);
  return path;
}

VocEvalResult EvaluateVocDevkit(const VocDevkitInputs& inputs, const VocEvalOptions& options) {
  // Check the pattern before reading thousands of annotations.
  DetectionFileForClass(inputs.detections_pattern, "");
  std::unordered_map<std::string, int> class_index;
  for (size_t c = 0; c < inputs.class_names.size(); ++c)
    class_index[inputs.class_names[c]] = static_cast<int>(c);

  const std::vector<std::string> ids = ReadImageSet(inputs.image_set);
  const std::unordered_set<std::string> image_set(ids.begin(), ids.end());
  std::vector<VocGroundTruth> ground_truths;
  for (const std::string& id : ids) {
    const std::string path =
        (std::filesystem::path(inputs.annotations_dir) / (id + ".xml")).string();
    const data::VocAnnotation annotation = data::ReadVocAnnotation(path);
    for (size_t i = 0; i < annotation.objects.size(); ++i) {
      const data::VocObject& object = annotation.objects[i];
      const auto it = class_index.find(object.name);
      if (it == class_index.end())
        Fail("{}: <object> {} has unknown class '{}' (not in the class list)", path, i + 1,
             object.name);
      ground_truths.push_back(
          {id, it->second, object.xmin, object.ymin, object.xmax, object.ymax, object.difficult});
    }
  }

  std::vector<VocDetection> detections;
  size_t files = 0;
  for (size_t c = 0; c < inputs.class_names.size(); ++c) {
    const std::string path =
        DetectionFileForClass(inputs.detections_pattern, inputs.class_names[c]);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) continue;
    ++files;
    std::vector<VocDetection> from_file =
        ReadVocDetectionFile(path, static_cast<int>(c), image_set);
    detections.insert(detections.end(), std::make_move_iterator(from_file.begin()),
                      std::make_move_iterator(from_file.end()));
  }
  // A missing file is a class without detections, but no file at all is a mistyped pattern
  // (it would score 0.00 and look like a result).
  if (files == 0 && !inputs.class_names.empty())
    Fail("{}: no detection file matches this pattern for any of the {} classes (looked for {}, "
         "...)",
         inputs.detections_pattern, inputs.class_names.size(),
         DetectionFileForClass(inputs.detections_pattern, inputs.class_names.front()));
  return EvaluateVoc(inputs.class_names, ground_truths, detections, options);
}

}  // namespace scratchdet::eval
