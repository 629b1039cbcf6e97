#include "scratchdet/data/shapes.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <pugixml.hpp>
#include <sstream>
#include <thread>

#include "scratchdet/core/error.h"
#include "scratchdet/data/pixel_convention.h"
#include "scratchdet/data/rng.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;

// Generator parameters (documented in docs/shapes.md; object count and size: ShapesLayout).
// A placement that would cover more than this of an earlier shape is redrawn, so every shape
// keeps enough of itself to be recognised.
constexpr double kMaxOcclusion = 0.65;
constexpr double kDifficultOcclusion = 0.5;
constexpr int kTinyPixels = 8;
constexpr int kPlacementTries = 20;
// Outlines below this diameter are unreadable: small shapes are always filled.
constexpr double kMinOutlinedDiameter = 24;
// Points are drawn with 3 fractional bits (sub-pixel accurate polygon edges).
constexpr int kShift = 3;

const cv::Scalar kPalette[] = {{40, 40, 220},   {40, 180, 40},  {220, 80, 30},  {30, 210, 230},
                               {200, 40, 200},  {210, 210, 40}, {20, 110, 250}, {130, 60, 140},
                               {240, 240, 240}, {25, 25, 25},   {90, 140, 60},  {160, 160, 255}};
constexpr int kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

enum ShapeClass {
  kCircle,
  kSquare,
  kTriangle,
  kStar,
  kRing,
  kCross,
  kHexagon,
  kEllipse,
  kArrow,
  kHeart
};

using Contour = std::vector<cv::Point2d>;  // unit-radius local coordinates

Contour RegularPolygon(int sides, double radius, double phase) {
  Contour points;
  for (int k = 0; k < sides; ++k) {
    const double a = phase + 2 * M_PI * k / sides;
    points.emplace_back(radius * std::cos(a), radius * std::sin(a));
  }
  return points;
}

// The outlines of one shape (a ring has two) in unit coordinates, before rotation.
std::vector<Contour> ShapeContours(ShapeClass shape, Rng& rng) {
  switch (shape) {
    case kCircle:
      return {RegularPolygon(64, 1.0, 0)};
    case kSquare:
      return {RegularPolygon(4, 1.0, M_PI / 4)};
    case kTriangle:
      return {RegularPolygon(3, 1.0, -M_PI / 2)};
    case kHexagon:
      return {RegularPolygon(6, 1.0, 0)};
    case kRing:
      return {RegularPolygon(64, 1.0, 0), RegularPolygon(64, 0.55, 0)};
    case kStar: {
      Contour points;
      for (int k = 0; k < 10; ++k) {
        const double r = k % 2 == 0 ? 1.0 : 0.42;
        const double a = -M_PI / 2 + M_PI * k / 5;
        points.emplace_back(r * std::cos(a), r * std::sin(a));
      }
      return {points};
    }
    case kCross: {
      const double w = 0.3;
      return {{{-w, -1},
               {w, -1},
               {w, -w},
               {1, -w},
               {1, w},
               {w, w},
               {w, 1},
               {-w, 1},
               {-w, w},
               {-1, w},
               {-1, -w},
               {-w, -w}}};
    }
    case kEllipse: {
      // Clearly flatter than a circle (aspect 0.4-0.65), so the two classes stay separable.
      const double minor = rng.Uniform(0.4, 0.65);
      Contour points;
      for (int k = 0; k < 64; ++k) {
        const double a = 2 * M_PI * k / 64;
        points.emplace_back(std::cos(a), minor * std::sin(a));
      }
      return {points};
    }
    case kArrow:
      return {
          {{-1, -0.2}, {0.15, -0.2}, {0.15, -0.55}, {1, 0}, {0.15, 0.55}, {0.15, 0.2}, {-1, 0.2}}};
    case kHeart: {
      // The classic parametric heart; y points down in images, hence the sign.
      Contour points;
      for (int k = 0; k < 64; ++k) {
        const double t = 2 * M_PI * k / 64;
        const double x = 16 * std::pow(std::sin(t), 3);
        const double y =
            13 * std::cos(t) - 5 * std::cos(2 * t) - 2 * std::cos(3 * t) - std::cos(4 * t);
        points.emplace_back(x / 16.5, -(y + 2.5) / 16.5);
      }
      return {points};
    }
  }
  return {};
}

// Rotation makes no sense for circles and rings; hearts stay upright-ish to remain hearts.
double RandomRotation(ShapeClass shape, Rng& rng) {
  if (shape == kCircle || shape == kRing) return 0;
  if (shape == kHeart) return rng.Uniform(-0.6, 0.6);
  return rng.Uniform(0, 2 * M_PI);
}

std::vector<std::vector<cv::Point>> Place(const std::vector<Contour>& contours, double cx,
                                          double cy, double radius, double angle) {
  const double c = std::cos(angle), s = std::sin(angle), scale = 1 << kShift;
  std::vector<std::vector<cv::Point>> placed;
  for (const Contour& contour : contours) {
    std::vector<cv::Point> points;
    for (const cv::Point2d& p : contour) {
      const double x = cx + radius * (c * p.x - s * p.y);
      const double y = cy + radius * (s * p.x + c * p.y);
      points.emplace_back(static_cast<int>(std::lround(x * scale)),
                          static_cast<int>(std::lround(y * scale)));
    }
    placed.push_back(std::move(points));
  }
  return placed;
}

// The pixels of one shape as a 0/255 mask.
cv::Mat ShapeMask(ShapeClass shape, const std::vector<std::vector<cv::Point>>& contours,
                  bool filled, int thickness, int size) {
  cv::Mat mask = cv::Mat::zeros(size, size, CV_8U);
  if (filled) {
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{contours[0]}, 255, cv::LINE_8, kShift);
    // A filled ring is an annulus: the hole shows what is behind it.
    if (shape == kRing)
      cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{contours[1]}, 0, cv::LINE_8, kShift);
  } else {
    cv::polylines(mask, contours, true, 255, thickness, cv::LINE_8, kShift);
  }
  return mask;
}

// Gradient, low-frequency texture and clutter strokes that belong to no class.
cv::Mat Background(Rng& rng, int size, const ShapesLayout& layout) {
  cv::Mat canvas(size, size, CV_32FC3);
  cv::Vec3f from, to;
  for (int ch = 0; ch < 3; ++ch) {
    from[ch] = static_cast<float>(rng.Uniform(0, 255));
    to[ch] = static_cast<float>(rng.Uniform(0, 255));
  }
  const double angle = rng.Uniform(0, 2 * M_PI);
  const double dx = std::cos(angle) / size, dy = std::sin(angle) / size;
  const double offset = 0.5 * (std::abs(std::cos(angle)) + std::abs(std::sin(angle)));
  // A coarse random grid, upsampled: blotchy texture at the scale of the objects.
  cv::Mat grid(6, 6, CV_32FC3);
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      for (int ch = 0; ch < 3; ++ch) grid.at<cv::Vec3f>(i, j)[ch] = rng.Normal(0, 22);
  cv::Mat texture;
  cv::resize(grid, texture, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
  for (int y = 0; y < size; ++y) {
    cv::Vec3f* row = canvas.ptr<cv::Vec3f>(y);
    const cv::Vec3f* tex = texture.ptr<cv::Vec3f>(y);
    for (int x = 0; x < size; ++x) {
      const double along = (x - size / 2.0) * dx + (y - size / 2.0) * dy;  // in [-offset, offset]
      const float t = static_cast<float>(0.5 + 0.5 * along / offset);
      row[x] = from * (1 - t) + to * t + tex[x];
    }
  }
  const int strokes = static_cast<int>(rng.UniformInt(layout.min_clutter, layout.max_clutter));
  for (int k = 0; k < strokes; ++k) {
    const cv::Scalar colour(rng.Uniform(0, 255), rng.Uniform(0, 255), rng.Uniform(0, 255));
    const int thickness = static_cast<int>(rng.UniformInt(1, std::max(1, size / 100)));
    std::vector<cv::Point> walk{{static_cast<int>(rng.UniformInt(0, size - 1)),
                                 static_cast<int>(rng.UniformInt(0, size - 1))}};
    // Straight lines and open random-walk scribbles: never a closed outline.
    const int segments = rng.Bernoulli(0.5) ? 1 : static_cast<int>(rng.UniformInt(3, 7));
    const double step = size * (segments == 1 ? rng.Uniform(0.2, 0.8) : rng.Uniform(0.04, 0.12));
    double heading = rng.Uniform(0, 2 * M_PI);
    for (int s = 0; s < segments; ++s) {
      heading += rng.Uniform(-1.2, 1.2);
      walk.emplace_back(walk.back().x + static_cast<int>(step * std::cos(heading)),
                        walk.back().y + static_cast<int>(step * std::sin(heading)));
    }
    cv::polylines(canvas, std::vector<std::vector<cv::Point>>{walk}, false, colour, thickness,
                  cv::LINE_8);
  }
  return canvas;
}

struct Placed {
  ShapesObject object;
  cv::Mat mask;     // the whole shape
  cv::Mat visible;  // not yet covered
  int area = 0;
};

// A palette colour (slightly jittered) that stands out from the background under the mask.
cv::Scalar PickColour(const cv::Mat& canvas, const cv::Mat& mask, Rng& rng) {
  const cv::Scalar under = cv::mean(canvas, mask);
  cv::Scalar best;
  double best_distance = -1;
  for (int attempt = 0; attempt < 6; ++attempt) {
    const cv::Scalar base = kPalette[rng.UniformInt(0, kPaletteSize - 1)];
    cv::Scalar colour;
    for (int ch = 0; ch < 3; ++ch)
      colour[ch] = std::clamp(base[ch] + rng.Uniform(-20, 20), 0.0, 255.0);
    const double distance = std::abs(colour[0] - under[0]) + std::abs(colour[1] - under[1]) +
                            std::abs(colour[2] - under[2]);
    if (distance > best_distance) best_distance = distance, best = colour;
    if (distance > 150) break;
  }
  return best;
}

// Brightness/contrast, an illumination gradient, optional blur and Gaussian sensor noise.
cv::Mat Finish(cv::Mat canvas, Rng& rng) {
  const int size = canvas.rows;
  if (rng.Bernoulli(0.3)) {
    const double sigma = rng.Uniform(0.5, 1.2);
    cv::GaussianBlur(canvas, canvas, cv::Size(0, 0), sigma);
  }
  const double gain = rng.Uniform(0.7, 1.3), bias = rng.Uniform(-25, 25);
  const double slope = rng.Uniform(-0.4, 0.4), angle = rng.Uniform(0, 2 * M_PI);
  const double gx = slope * std::cos(angle) / size, gy = slope * std::sin(angle) / size;
  const double noise = rng.Uniform(2, 10);
  cv::Mat image(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    const cv::Vec3f* in = canvas.ptr<cv::Vec3f>(y);
    cv::Vec3b* out = image.ptr<cv::Vec3b>(y);
    for (int x = 0; x < size; ++x) {
      const double light = gain * (1 + (x - size / 2.0) * gx + (y - size / 2.0) * gy);
      for (int ch = 0; ch < 3; ++ch) {
        const double v = in[x][ch] * light + bias + noise * rng.Normal();
        out[x][ch] = static_cast<uchar>(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
  return image;
}

}  // namespace

const std::vector<std::string>& ShapesClassNames() {
  static const std::vector<std::string> names = {"circle", "square",  "triangle", "star",  "ring",
                                                 "cross",  "hexagon", "ellipse",  "arrow", "heart"};
  return names;
}

void ShapesLayout::Validate() const {
  if (min_objects < 1 || max_objects < min_objects)
    Fail("shapes: objects per image {}..{} must satisfy 1 <= min <= max", min_objects,
         max_objects);
  if (!(min_diameter > 0) || !(max_diameter >= min_diameter) || !(max_diameter <= 1))
    Fail("shapes: object size {}..{} must satisfy 0 < min <= max <= 1", min_diameter,
         max_diameter);
  if (!(outline_probability >= 0 && outline_probability <= 1))
    Fail("shapes: outline probability {} must be in [0, 1]", outline_probability);
  if (min_clutter < 0 || max_clutter < min_clutter)
    Fail("shapes: clutter strokes {}..{} must satisfy 0 <= min <= max", min_clutter,
         max_clutter);
}

ShapesImage RenderShapesImage(uint64_t seed, ShapesSplit split, int index, int size,
                              const ShapesLayout& layout) {
  if (size < 32) Fail("shapes: image size must be >= 32, got {}", size);
  layout.Validate();
  Rng rng = Rng::Stream(seed, {static_cast<uint64_t>(split), static_cast<uint64_t>(index)});
  cv::Mat canvas = Background(rng, size, layout);
  const int wanted = static_cast<int>(rng.UniformInt(layout.min_objects, layout.max_objects));
  std::vector<Placed> placed;
  for (int n = 0; n < wanted; ++n) {
    for (int attempt = 0; attempt < kPlacementTries; ++attempt) {
      const auto shape = static_cast<ShapeClass>(rng.UniformInt(0, 9));
      const double diameter = size * rng.LogUniform(layout.min_diameter, layout.max_diameter);
      const double radius = diameter / 2;
      const double cx = rng.Uniform(radius, size - radius);
      const double cy = rng.Uniform(radius, size - radius);
      const double angle = RandomRotation(shape, rng);
      // Bernoulli(1 - p) keeps the default (p = 0.5) draw-for-draw identical to version 2.
      const bool filled =
          diameter < kMinOutlinedDiameter || rng.Bernoulli(1.0 - layout.outline_probability);
      const int thickness = std::max(2, static_cast<int>(std::lround(diameter * 0.07)));
      const std::vector<Contour> contours = ShapeContours(shape, rng);
      cv::Mat mask =
          ShapeMask(shape, Place(contours, cx, cy, radius, angle), filled, thickness, size);
      const int area = cv::countNonZero(mask);
      if (area == 0) continue;
      // Would this shape hide too much of one drawn before?
      bool too_much = false;
      std::vector<cv::Mat> still_visible;
      for (const Placed& earlier : placed) {
        cv::Mat visible = earlier.visible & ~mask;
        if (1.0 - cv::countNonZero(visible) / static_cast<double>(earlier.area) > kMaxOcclusion) {
          too_much = true;
          break;
        }
        still_visible.push_back(visible);
      }
      if (too_much) continue;
      for (size_t k = 0; k < placed.size(); ++k) placed[k].visible = still_visible[k];
      canvas.setTo(PickColour(canvas, mask, rng), mask);
      const cv::Rect box = cv::boundingRect(mask);
      Placed p;
      p.object.class_index = shape;
      p.object.x1 = box.x;
      p.object.y1 = box.y;
      p.object.x2 = box.x + box.width;
      p.object.y2 = box.y + box.height;
      p.area = area;
      p.visible = mask.clone();
      p.mask = std::move(mask);
      placed.push_back(std::move(p));
      break;
    }
  }
  ShapesImage result;
  result.image = Finish(canvas, rng);
  for (Placed& p : placed) {
    ShapesObject object = p.object;
    object.occluded = 1.0 - cv::countNonZero(p.visible) / static_cast<double>(p.area);
    object.difficult = std::min(object.x2 - object.x1, object.y2 - object.y1) < kTinyPixels ||
                       object.occluded > kDifficultOcclusion;
    result.objects.push_back(object);
  }
  return result;
}

void ShapesStats::Add(const ShapesImage& image, int size) {
  ++images;
  const size_t n = image.objects.size();
  if (objects_per_image.size() <= n) objects_per_image.resize(n + 1, 0);
  ++objects_per_image[n];
  if (per_class.empty()) per_class.assign(ShapesClassNames().size(), 0);
  const double to_300 = 300.0 / size;
  for (const ShapesObject& o : image.objects) {
    ++objects;
    ++per_class[o.class_index];
    const double area = (o.x2 - o.x1) * to_300 * (o.y2 - o.y1) * to_300;
    if (area < 32 * 32) {
      ++small;
    } else if (area < 96 * 96) {
      ++medium;
    } else {
      ++large;
    }
    difficult += o.difficult;
    tiny += std::min(o.x2 - o.x1, o.y2 - o.y1) < kTinyPixels;
    occluded += o.occluded > kDifficultOcclusion;
  }
}

std::string ShapesStats::ToText(const std::string& title) const {
  const auto pct = [this](int64_t k) { return objects ? 100.0 * k / objects : 0.0; };
  std::string text = fmt::format("{}: {} images, {} objects ({:.2f} per image)\n", title, images,
                                 objects, images ? double(objects) / images : 0.0);
  text += "  objects per image:";
  for (size_t k = 0; k < objects_per_image.size(); ++k)
    if (objects_per_image[k]) text += fmt::format(" {}:{}", k, objects_per_image[k]);
  text += fmt::format(
      "\n  size (COCO areas at 300x300): small {:.1f}%  medium {:.1f}%  large {:.1f}%\n",
      pct(small), pct(medium), pct(large));
  text +=
      fmt::format("  difficult {:.1f}% (tiny < {} px: {:.1f}%, > {:.0f}% covered: {:.1f}%)\n",
                  pct(difficult), kTinyPixels, pct(tiny), 100 * kDifficultOcclusion, pct(occluded));
  text += "  per class:";
  for (size_t c = 0; c < per_class.size(); ++c)
    text += fmt::format(" {}:{}", ShapesClassNames()[c], per_class[c]);
  return text + "\n";
}

namespace {

void WriteText(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  if (!out) Fail("{}: cannot write", path.string());
}

std::string VocXml(const std::string& id, const ShapesImage& image, int size) {
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("annotation");
  root.append_child("folder").text().set("shapes");
  root.append_child("filename").text().set((id + ".jpg").c_str());
  pugi::xml_node dims = root.append_child("size");
  dims.append_child("width").text().set(size);
  dims.append_child("height").text().set(size);
  dims.append_child("depth").text().set(3);
  for (const ShapesObject& o : image.objects) {
    pugi::xml_node node = root.append_child("object");
    node.append_child("name").text().set(ShapesClassNames()[o.class_index].c_str());
    node.append_child("truncated").text().set(0);
    node.append_child("difficult").text().set(o.difficult ? 1 : 0);
    const auto voc = ContinuousToVoc(o.x1, o.y1, o.x2, o.y2);
    pugi::xml_node box = node.append_child("bndbox");
    box.append_child("xmin").text().set(static_cast<int>(voc[0]));
    box.append_child("ymin").text().set(static_cast<int>(voc[1]));
    box.append_child("xmax").text().set(static_cast<int>(voc[2]));
    box.append_child("ymax").text().set(static_cast<int>(voc[3]));
  }
  std::ostringstream out;
  doc.save(out, "  ");
  return out.str();
}

nlohmann::json CocoJson(const std::string& split, const std::vector<ShapesImage>& images,
                        const std::vector<std::string>& ids, int size, uint64_t seed) {
  nlohmann::json json;
  json["info"] = {{"description", "scratchdet shapes benchmark"},
                  {"split", split},
                  {"seed", seed},
                  {"image_size", size}};
  json["images"] = nlohmann::json::array();
  json["annotations"] = nlohmann::json::array();
  json["categories"] = nlohmann::json::array();
  for (size_t c = 0; c < ShapesClassNames().size(); ++c)
    json["categories"].push_back(
        {{"id", c + 1}, {"name", ShapesClassNames()[c]}, {"supercategory", "shape"}});
  int64_t annotation_id = 1;
  for (size_t i = 0; i < images.size(); ++i) {
    json["images"].push_back(
        {{"id", i + 1}, {"file_name", ids[i] + ".jpg"}, {"width", size}, {"height", size}});
    for (const ShapesObject& o : images[i].objects) {
      const int w = o.x2 - o.x1, h = o.y2 - o.y1;
      // COCO's area is the segment area; the box area is used here so an outlined shape is
      // sized by its extent, as for the stats above.
      json["annotations"].push_back({{"id", annotation_id++},
                                     {"image_id", i + 1},
                                     {"category_id", o.class_index + 1},
                                     {"bbox", {o.x1, o.y1, w, h}},
                                     {"area", w * h},
                                     {"iscrowd", 0}});
    }
  }
  return json;
}

}  // namespace

ShapesSummary GenerateShapes(const ShapesOptions& options) {
  if (options.out_dir.empty()) Fail("make-shapes: no output folder given");
  if (options.train_images < 1 || options.test_images < 1)
    Fail("make-shapes: --train and --test must be >= 1 (got {} and {})", options.train_images,
         options.test_images);
  if (options.jpeg_quality < 1 || options.jpeg_quality > 100)
    Fail("make-shapes: JPEG quality must be 1..100, got {}", options.jpeg_quality);
  options.layout.Validate();
  const auto start = std::chrono::steady_clock::now();
  const fs::path root(options.out_dir);
  std::error_code error;
  for (const char* sub : {"JPEGImages", "Annotations", "ImageSets/Main", "annotations"}) {
    fs::create_directories(root / sub, error);
    if (error) Fail("{}: cannot create folder: {}", (root / sub).string(), error.message());
  }
  std::string class_list;
  for (const std::string& name : ShapesClassNames()) class_list += name + "\n";
  WriteText(root / "classes.txt", class_list);

  ShapesSummary summary;
  const std::vector<int> image_params = {cv::IMWRITE_JPEG_QUALITY, options.jpeg_quality};
  for (const ShapesSplit split : {ShapesSplit::kTrainval, ShapesSplit::kTest}) {
    const bool train = split == ShapesSplit::kTrainval;
    const std::string name = train ? "trainval" : "test";
    const int count = train ? options.train_images : options.test_images;
    std::vector<std::string> ids(count);
    std::vector<ShapesImage> images(count);
    std::atomic<int> next{0};
    std::string first_error;
    std::mutex error_mutex;
    auto work = [&] {
      for (int i = next++; i < count; i = next++) {
        try {
          ids[i] = fmt::format("{}_{:06d}", name, i);
          ShapesImage image =
              RenderShapesImage(options.seed, split, i, options.image_size, options.layout);
          std::vector<uchar> jpeg;
          cv::imencode(".jpg", image.image, jpeg, image_params);
          WriteText(root / "JPEGImages" / (ids[i] + ".jpg"), std::string(jpeg.begin(), jpeg.end()));
          WriteText(root / "Annotations" / (ids[i] + ".xml"),
                    VocXml(ids[i], image, options.image_size));
          image.image.release();  // only the objects are needed from here on
          images[i] = std::move(image);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.empty()) first_error = e.what();
          next = count;
        }
      }
    };
    std::vector<std::thread> workers;
    for (int t = 1; t < std::max(1, options.threads); ++t) workers.emplace_back(work);
    work();
    for (std::thread& worker : workers) worker.join();
    if (!first_error.empty()) throw Error(first_error);

    ShapesStats& stats = train ? summary.trainval : summary.test;
    std::string list;
    for (int i = 0; i < count; ++i) {
      stats.Add(images[i], options.image_size);
      list += ids[i] + "\n";
    }
    WriteText(root / "ImageSets" / "Main" / (name + ".txt"), list);
    WriteText(root / "annotations" / ("instances_" + name + ".json"),
              CocoJson(name, images, ids, options.image_size, options.seed).dump() + "\n");
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace scratchdet::data
