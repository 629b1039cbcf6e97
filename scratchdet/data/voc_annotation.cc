#include "scratchdet/data/voc_annotation.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <pugixml.hpp>
#include <string_view>

#include "scratchdet/core/error.h"
#include "scratchdet/core/strings.h"

namespace scratchdet::data {

namespace {

// Text of the required child `name` of `parent`; `where` describes the parent for errors.
std::string RequiredText(const std::string& path, const pugi::xml_node& parent, const char* name,
                         const std::string& where) {
  const pugi::xml_node child = parent.child(name);
  if (!child) Fail("{}: {} has no <{}>", path, where, name);
  const std::string text(Trim(child.child_value()));
  if (text.empty()) Fail("{}: {} has an empty <{}>", path, where, name);
  return text;
}

double ParseNumber(const std::string& path, const std::string& where, const char* name,
                   const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(value))
    Fail("{}: {} <{}> is not a number: '{}'", path, where, name, text);
  return value;
}

int ParsePositiveInt(const std::string& path, const std::string& where, const char* name,
                     const std::string& text) {
  const double value = ParseNumber(path, where, name, text);
  if (value != std::floor(value) || value <= 0 || value > 1e9)
    Fail("{}: {} <{}> must be a positive integer, got '{}'", path, where, name, text);
  return static_cast<int>(value);
}

// Optional 0/1 flag (<difficult>, <truncated>); absent means false.
bool ParseFlag(const std::string& path, const pugi::xml_node& parent, const char* name,
               const std::string& where) {
  const pugi::xml_node child = parent.child(name);
  if (!child) return false;
  const std::string_view text = Trim(child.child_value());
  if (text == "0" || text.empty()) return false;
  if (text == "1") return true;
  Fail("{}: {} <{}> must be 0 or 1, got '{}'", path, where, name, std::string(text));
}

VocObject ParseObject(const std::string& path, const pugi::xml_node& node, int index, int width,
                      int height) {
  const std::string where = fmt::format("<object> {}", index);
  VocObject object;
  object.name = RequiredText(path, node, "name", where);
  const std::string named = fmt::format("<object> {} ({})", index, object.name);
  object.difficult = ParseFlag(path, node, "difficult", named);
  object.truncated = ParseFlag(path, node, "truncated", named);
  const pugi::xml_node box = node.child("bndbox");
  if (!box) Fail("{}: {} has no <bndbox>", path, named);
  const std::string box_where = named + " <bndbox>";
  auto coordinate = [&](const char* name) {
    return ParseNumber(path, box_where, name, RequiredText(path, box, name, box_where));
  };
  object.xmin = coordinate("xmin");
  object.ymin = coordinate("ymin");
  object.xmax = coordinate("xmax");
  object.ymax = coordinate("ymax");
  if (object.xmax < object.xmin)
    Fail("{}: {} is degenerate: xmax={} < xmin={}", path, box_where, object.xmax, object.xmin);
  if (object.ymax < object.ymin)
    Fail("{}: {} is degenerate: ymax={} < ymin={}", path, box_where, object.ymax, object.ymin);
  if (object.xmin < 0 || object.ymin < 0 || object.xmax > width || object.ymax > height)
    Fail("{}: {} ({}, {}, {}, {}) lies outside the {}x{} image (pixels are 1..width)", path,
         box_where, object.xmin, object.ymin, object.xmax, object.ymax, width, height);
  return object;
}

}  // namespace

VocAnnotation ReadVocAnnotation(const std::string& path) {
  pugi::xml_document doc;
  const pugi::xml_parse_result parsed = doc.load_file(path.c_str());
  if (parsed.status == pugi::status_file_not_found || parsed.status == pugi::status_io_error ||
      parsed.status == pugi::status_out_of_memory)
    Fail("{}: cannot read annotation file: {}", path, parsed.description());
  if (!parsed)
    Fail("{}: malformed XML at offset {}: {}", path, parsed.offset, parsed.description());
  const pugi::xml_node root = doc.child("annotation");
  if (!root) Fail("{}: no <annotation> root element", path);

  VocAnnotation annotation;
  annotation.path = path;
  annotation.filename = std::string(Trim(root.child_value("filename")));
  const pugi::xml_node size = root.child("size");
  if (!size) Fail("{}: <annotation> has no <size>", path);
  annotation.width =
      ParsePositiveInt(path, "<size>", "width", RequiredText(path, size, "width", "<size>"));
  annotation.height =
      ParsePositiveInt(path, "<size>", "height", RequiredText(path, size, "height", "<size>"));
  if (size.child("depth"))
    annotation.depth =
        ParsePositiveInt(path, "<size>", "depth", RequiredText(path, size, "depth", "<size>"));
  int index = 1;  // 1-based, as a reader counts objects in the file
  for (const pugi::xml_node& node : root.children("object"))
    annotation.objects.push_back(
        ParseObject(path, node, index++, annotation.width, annotation.height));
  return annotation;
}

const std::vector<std::string>& VocClassNames() {
  static const std::vector<std::string> names = {
      "aeroplane", "bicycle",     "bird",  "boat",        "bottle", "bus",      "car",
      "cat",       "chair",       "cow",   "diningtable", "dog",    "horse",    "motorbike",
      "person",    "pottedplant", "sheep", "sofa",        "train",  "tvmonitor"};
  return names;
}

}  // namespace scratchdet::data
