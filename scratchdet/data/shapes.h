// "shapes": a synthetic detection benchmark that trains in minutes on a CPU and still has the
// properties the paper's experiments are about: small objects (the downsampling study,
// Table C), clutter, occlusion and photometric variation. Written in VOC layout plus COCO JSON
// so that the same readers, loader and evaluators as the real datasets are exercised.
//
// Every image is a pure function of (seed, split, index, size): generation is parallel and the
// files are byte-identical for the same options (docs/shapes.md lists the parameters).
#pragma once

#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace scratchdet::data {

// Bumped whenever RenderShapesImage's output changes for the same arguments; cached datasets
// are keyed by it.
constexpr int kShapesGeneratorVersion = 2;

// The 10 classes, in label order: they differ by geometry, not colour (every class draws its
// colour from one shared palette, filled or outlined).
const std::vector<std::string>& ShapesClassNames();

struct ShapesObject {
  int class_index = 0;
  // Tight box of the whole shape (also where later shapes cover it), continuous pixels:
  // covered columns x1..x2-1.
  int x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double occluded = 0;  // fraction of the shape's pixels covered by shapes drawn later
  bool difficult = false;
};

struct ShapesImage {
  cv::Mat image;  // BGR uint8, size x size
  std::vector<ShapesObject> objects;
};

enum class ShapesSplit { kTrainval = 0, kTest = 1 };

// How many objects an image holds and how large they are. The defaults are the benchmark of
// docs/shapes.md; the mini profile uses an easier layout (fewer, larger objects) so that a
// detector learns within its CPU budget.
struct ShapesLayout {
  int min_objects = 1;
  int max_objects = 6;
  // Shape diameter as a fraction of the image side, log-uniform: by default as many objects
  // between 4% and 8% as between 40% and 80%, so small objects are common.
  double min_diameter = 0.04;
  double max_diameter = 0.8;
  // Share of shapes (of diameter >= kMinOutlinedDiameter) drawn as outlines instead of filled.
  double outline_probability = 0.5;
  // Clutter strokes (lines and scribbles of no class) per image, uniform in [min, max].
  int min_clutter = 3;
  int max_clutter = 10;

  // Throws Error naming the bad field.
  void Validate() const;
};

// Renders image `index` of `split`. Deterministic for given arguments.
ShapesImage RenderShapesImage(uint64_t seed, ShapesSplit split, int index, int size,
                              const ShapesLayout& layout = ShapesLayout());

struct ShapesStats {
  int64_t images = 0;
  int64_t objects = 0;
  std::vector<int64_t> objects_per_image;  // histogram: [k] = images with k objects
  // COCO's area thresholds (32^2, 96^2) applied to box areas rescaled to a 300x300 image, so
  // the split means the same at --size 160 as at 300.
  int64_t small = 0, medium = 0, large = 0;
  int64_t difficult = 0;
  int64_t tiny = 0;      // min box side < kTinyPixels (in this image's pixels)
  int64_t occluded = 0;  // more than kDifficultOcclusion covered
  std::vector<int64_t> per_class;

  void Add(const ShapesImage& image, int size);
  std::string ToText(const std::string& title) const;
};

struct ShapesOptions {
  std::string out_dir;
  int train_images = 2000;
  int test_images = 300;
  int image_size = 300;
  uint64_t seed = 7;
  int jpeg_quality = 90;
  ShapesLayout layout;
  int threads = 2;  // the output does not depend on it
};

struct ShapesSummary {
  ShapesStats trainval, test;
  double seconds = 0;
};

// Writes out_dir/{JPEGImages/*.jpg, Annotations/*.xml, ImageSets/Main/{trainval,test}.txt,
// classes.txt, annotations/instances_{trainval,test}.json}. Image ids are "trainval_000123" /
// "test_000045". Throws Error on bad options or an unwritable folder.
ShapesSummary GenerateShapes(const ShapesOptions& options);

}  // namespace scratchdet::data
