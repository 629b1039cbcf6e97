#include "scratchdet/data/voc_dataset.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <unordered_map>

#include "scratchdet/core/strings.h"
#include "scratchdet/data/pixel_convention.h"
#include "scratchdet/data/voc_annotation.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;

struct SplitPart {
  fs::path folder;  // in VOC layout
  std::string split;
};

std::vector<SplitPart> ResolveSpec(const std::string& root, const std::string& spec) {
  if (root.empty()) Fail("VOC dataset: no root folder given");
  if (!fs::is_directory(root)) Fail("{}: VOC dataset root is not a folder", root);
  static const std::regex kYearPart("voc(07|12|2007|2012)_(.+)");
  std::vector<SplitPart> parts;
  std::stringstream stream(spec);
  std::string token;
  while (std::getline(stream, token, '+')) {
    token = std::string(Trim(token));
    if (token.empty()) Fail("VOC dataset spec '{}': empty part", spec);
    std::smatch match;
    if (std::regex_match(token, match, kYearPart)) {
      const std::string year = match[1].str().size() == 2 ? "20" + match[1].str() : match[1].str();
      parts.push_back({fs::path(root) / ("VOC" + year), match[2].str()});
    } else {
      parts.push_back({fs::path(root), token});
    }
  }
  if (parts.empty()) Fail("VOC dataset spec is empty (expected e.g. 'voc07_test' or 'trainval')");
  return parts;
}

struct ListedImage {
  std::string id;
  int line = 0;  // in its image list
};

std::vector<ListedImage> ReadImageList(const fs::path& list_path) {
  std::ifstream in(list_path);
  if (!in)
    Fail("{}: image list not found (expected ImageSets/Main/<split>.txt)", list_path.string());
  std::vector<ListedImage> ids;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    const std::string id(Trim(line));
    if (id.empty()) continue;
    if (id.find_first_of(" \t") != std::string::npos)
      Fail("{}:{}: expected one image id per line, got '{}'", list_path.string(), line_number, id);
    ids.push_back({id, line_number});
  }
  if (ids.empty()) Fail("{}: image list is empty", list_path.string());
  return ids;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string joined;
  for (const auto& name : names) joined += (joined.empty() ? "" : ", ") + name;
  return joined;
}

}  // namespace

std::vector<std::string> ReadClassList(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("{}: class list not found", path);
  std::vector<std::string> names;
  std::string line;
  for (int line_number = 1; std::getline(in, line); ++line_number) {
    const std::string name(Trim(line));
    if (name.empty()) continue;
    if (std::find(names.begin(), names.end(), name) != names.end())
      Fail("{}:{}: class '{}' listed twice", path, line_number, name);
    names.push_back(name);
  }
  if (names.empty()) Fail("{}: class list is empty", path);
  return names;
}

VocDataset::VocDataset(const VocDatasetOptions& options)
    : InMemoryDataset(options.on_bad_sample, [&options] {
        if (!options.classes.empty()) return options.classes;
        const fs::path class_file = fs::path(options.root) / "classes.txt";
        if (fs::is_regular_file(class_file)) return ReadClassList(class_file.string());
        return VocClassNames();
      }()) {
  std::unordered_map<std::string, int64_t> class_index;
  for (size_t c = 0; c < class_names().size(); ++c) class_index[class_names()[c]] = c;

  std::map<std::string, std::string> listed;  // image id -> "list:line" where it first appears
  for (const SplitPart& part : ResolveSpec(options.root, options.spec)) {
    const fs::path list_path = part.folder / "ImageSets" / "Main" / (part.split + ".txt");
    for (const auto& [id, line] : ReadImageList(list_path)) {
      const fs::path xml_path = part.folder / "Annotations" / (id + ".xml");
      const std::string where = fmt::format("{}:{}", list_path.string(), line);
      try {
        // Ids must be unique: the evaluator matches detections to ground truth by id.
        const auto [first, added] = listed.emplace(id, where);
        if (!added)
          FailSample(BadSampleReason::kDuplicateImage, "{}: image id '{}' is listed twice (first at {})",
                     where, id, first->second);
        if (!fs::is_regular_file(xml_path))
          FailSample(BadSampleReason::kMissingAnnotation,
                     "{}: annotation file not found (image '{}' is listed in {})",
                     xml_path.string(), id, list_path.string());
        VocAnnotation annotation;
        try {
          annotation = ReadVocAnnotation(xml_path.string());
        } catch (const BadSampleError&) {
          throw;
        } catch (const Error& error) {
          throw BadSampleError(BadSampleReason::kInvalidAnnotation, error.what());
        }
        if (annotation.objects.empty() && !options.allow_empty)
          FailSample(BadSampleReason::kEmptyAnnotation,
                     "{}: annotation has no <object> (pass allow_empty to train on images "
                     "without objects)",
                     xml_path.string());
        Sample record;
        record.image_id = id;
        record.image_path = (part.folder / "JPEGImages" / (id + ".jpg")).string();
        record.width = annotation.width;
        record.height = annotation.height;
        int object_number = 1;
        for (const VocObject& object : annotation.objects) {
          const auto found = class_index.find(object.name);
          if (found == class_index.end())
            FailSample(BadSampleReason::kUnknownClass,
                       "{}: <object> {} has class '{}', which is not one of the {} classes ({})",
                       xml_path.string(), object_number, object.name, class_names().size(),
                       JoinNames(class_names()));
          const auto box = VocToContinuous(object.xmin, object.ymin, object.xmax, object.ymax);
          record.boxes.push_back({static_cast<float>(std::max(0.0, box[0])),
                                  static_cast<float>(std::max(0.0, box[1])),
                                  static_cast<float>(box[2]), static_cast<float>(box[3])});
          record.labels.push_back(found->second);
          record.difficult.push_back(object.difficult ? 1 : 0);
          record.crowd.push_back(0);
          ++object_number;
        }
        // Only existence is checked here (cheap); decoding happens in Load().
        if (!fs::is_regular_file(record.image_path))
          FailSample(BadSampleReason::kMissingImage, "{}: image file not found (annotation {})",
                     record.image_path, xml_path.string());
        AddRecord(std::move(record));
      } catch (const BadSampleError& error) {
        HandleBadSample(error, error.reason() == BadSampleReason::kDuplicateImage
                                   ? where
                                   : xml_path.string());
      }
    }
  }
  if (size() == 0)
    Fail("{}: VOC dataset '{}' has no usable images ({} skipped)", options.root, options.spec,
         bad_samples().Total());
}

}  // namespace scratchdet::data
