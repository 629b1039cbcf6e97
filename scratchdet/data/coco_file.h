// The structure of a COCO instances file (annotations/instances_*.json), read in one place
// for the dataset that trains and tests on it (data/coco_dataset.h) and for the evaluator
// (eval/coco_json.h). Each then reads the fields it needs from the entries; what makes the
// whole file unusable is refused here, with the same message for both.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace scratchdet::data {

struct CocoFile {
  std::string path;
  nlohmann::json root;  // the parsed file
  // "images": ids in file order (images()[i] is root["images"][i]).
  std::vector<int64_t> image_ids;
  // "categories": (id, name) in file order.
  std::vector<std::pair<int64_t, std::string>> categories;
  // "annotations": the image id of each, in file order (each is in image_ids).
  std::vector<int64_t> annotation_image_ids;

  const nlohmann::json& images() const { return root.at("images"); }
  const nlohmann::json& annotations() const { return root.at("annotations"); }
};

// Parses `path` and checks the structure. Throws scratchdet::Error naming the file and the
// entry for: a file that cannot be read or is not JSON ("malformed JSON"; a number such as
// 1e999 included), a top level that is not an object, a missing top-level 'images',
// 'categories' or 'annotations' array, an entry that is not an object, an image without an
// integer 'id' or a repeated one, a category without an integer 'id' and a string 'name' or
// a repeated id, an annotation without an integer 'image_id' or with one not in 'images'.
CocoFile ReadCocoFile(const std::string& path);

}  // namespace scratchdet::data
