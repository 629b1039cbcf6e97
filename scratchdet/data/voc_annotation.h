// PASCAL VOC annotation files (Annotations/<image_id>.xml).
#pragma once

#include <string>
#include <vector>

namespace scratchdet::data {

struct VocObject {
  std::string name;
  // As in the file: 1-based inclusive pixel coordinates (the devkit convention).
  double xmin = 0, ymin = 0, xmax = 0, ymax = 0;
  bool difficult = false;
  bool truncated = false;
};

struct VocAnnotation {
  std::string path;      // the file it was read from
  std::string filename;  // <filename>, empty when absent
  int width = 0, height = 0, depth = 3;
  std::vector<VocObject> objects;
};

// Reads one annotation with pugixml. Requires <annotation><size> with positive <width> and
// <height>, and per <object> a non-empty <name> and a <bndbox> of numeric <xmin> <ymin> <xmax>
// <ymax> with xmin <= xmax, ymin <= ymax, inside [0, width] x [0, height] (the devkit's pixels
// are 1..width; 0 is accepted for files written by 0-based tools). <difficult> and <truncated>
// are optional 0/1. An annotation without objects is valid: the caller decides whether to keep
// the image. Throws scratchdet::Error naming the file and the offending element.
VocAnnotation ReadVocAnnotation(const std::string& path);

// The 20 VOC classes in the official devkit order (class index c -> training label c + 1).
const std::vector<std::string>& VocClassNames();

}  // namespace scratchdet::data
