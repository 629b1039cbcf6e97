// `scratchdet make-shapes`: writes the synthetic shapes benchmark (docs/shapes.md).
#include <fmt/format.h>

#include <memory>
#include <thread>

#include "scratchdet/cli/command.h"
#include "scratchdet/data/shapes.h"

namespace scratchdet::cli {
namespace {

int Run(const data::ShapesOptions& options) {
  const data::ShapesSummary summary = data::GenerateShapes(options);
  const int total = options.train_images + options.test_images;
  fmt::print("wrote {} ({} images in {:.2f} s, {:.2f} ms per image)\n", options.out_dir, total,
             summary.seconds, 1000.0 * summary.seconds / total);
  fmt::print("{}{}", summary.trainval.ToText("trainval"), summary.test.ToText("test"));
  return 0;
}

const CommandRegistrar kRegistrar(
    "make-shapes",
    "write the synthetic shapes benchmark (VOC layout + COCO JSON) and print its statistics",
    [](CLI::App& app) {
      auto options = std::make_shared<data::ShapesOptions>();
      options->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      app.add_option("--out", options->out_dir, "output folder")->required();
      app.add_option("--train", options->train_images, "trainval images")->capture_default_str();
      app.add_option("--test", options->test_images, "test images")->capture_default_str();
      app.add_option("--size", options->image_size, "image side in pixels")->capture_default_str();
      app.add_option("--seed", options->seed, "generator seed (same seed -> same bytes)")
          ->capture_default_str();
      app.add_option("--jpeg-quality", options->jpeg_quality, "JPEG quality")
          ->capture_default_str();
      app.add_option("--min-objects", options->layout.min_objects, "fewest objects per image")
          ->capture_default_str();
      app.add_option("--max-objects", options->layout.max_objects, "most objects per image")
          ->capture_default_str();
      app.add_option("--min-size", options->layout.min_diameter,
                     "smallest object diameter, fraction of the image side")
          ->capture_default_str();
      app.add_option("--max-size", options->layout.max_diameter,
                     "largest object diameter, fraction of the image side")
          ->capture_default_str();
      app.add_option("--outline-probability", options->layout.outline_probability,
                     "share of shapes drawn as outlines (the rest filled)")
          ->capture_default_str();
      app.add_option("--min-clutter", options->layout.min_clutter,
                     "fewest clutter strokes per image")
          ->capture_default_str();
      app.add_option("--max-clutter", options->layout.max_clutter,
                     "most clutter strokes per image")
          ->capture_default_str();
      app.add_option("--threads", options->threads, "generator threads (output is the same)")
          ->capture_default_str();
      return [options] { return Run(*options); };
    });

}  // namespace
}  // namespace scratchdet::cli
