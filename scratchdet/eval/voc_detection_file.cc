#include "scratchdet/eval/voc_detection_file.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "scratchdet/core/error.h"

namespace scratchdet::eval {

namespace {

constexpr const char* kFieldNames[] = {"image_id", "score", "xmin", "ymin", "xmax", "ymax"};

double ParseField(const std::string& path, int line, int field, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value))
    Fail("{}:{}: field {} ({}) is not a finite number: '{}'", path, line, field + 1,
         kFieldNames[field], text);
  return value;
}

}  // namespace

std::vector<VocDetection> ReadVocDetectionFile(const std::string& path, int class_index,
                                               const std::unordered_set<std::string>& image_set) {
  std::ifstream in(path);
  if (!in) Fail("{}: cannot open detection file: {}", path, std::strerror(errno));
  std::vector<VocDetection> detections;
  std::string text;
  int line = 0;
  while (std::getline(in, text)) {
    ++line;
    std::istringstream fields_in(text);
    std::vector<std::string> fields;
    for (std::string field; fields_in >> field;) fields.push_back(field);
    if (fields.empty()) continue;
    if (fields.size() != 6)
      Fail("{}:{}: expected 6 fields '<image_id> <score> <xmin> <ymin> <xmax> <ymax>', got {}",
           path, line, fields.size());
    VocDetection det;
    det.image_id = fields[0];
    if (image_set.count(det.image_id) == 0)
      Fail("{}:{}: image id '{}' is not in the image set", path, line, det.image_id);
    det.class_index = class_index;
    det.score = ParseField(path, line, 1, fields[1]);
    det.x1 = ParseField(path, line, 2, fields[2]);
    det.y1 = ParseField(path, line, 3, fields[3]);
    det.x2 = ParseField(path, line, 4, fields[4]);
    det.y2 = ParseField(path, line, 5, fields[5]);
    if (det.x2 < det.x1 || det.y2 < det.y1)
      Fail("{}:{}: inverted box ({}, {}, {}, {}): expected xmin <= xmax and ymin <= ymax", path,
           line, det.x1, det.y1, det.x2, det.y2);
    detections.push_back(std::move(det));
  }
  if (in.bad()) Fail("{}: read error after line {}", path, line);
  return detections;
}

}  // namespace scratchdet::eval
