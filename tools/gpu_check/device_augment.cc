#include "tools/gpu_check/device_augment.h"

#include <algorithm>
#include <cmath>

namespace scratchdet::gpu_check {
namespace {

namespace F = torch::nn::functional;

using Box = std::array<double, 4>;

double Iou(const Box& a, const Box& b) {
  const double iw = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double ih = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const double inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

// SSD's crop candidates (data/transforms/min_iou_crop.h): the whole canvas, plus at most one
// crop per constraint found in 50 trials; one chosen uniformly.
Box DrawCrop(double width, double height, const std::vector<Box>& boxes, data::Rng& rng) {
  static const double kMinIous[] = {0.1, 0.3, 0.5, 0.7, 0.9, -1.0};
  std::vector<Box> candidates = {{0, 0, width, height}};
  for (const double min_iou : kMinIous) {
    for (int trial = 0; trial < 50; ++trial) {
      const double scale = rng.Uniform(0.3, 1.0);
      const double aspect = std::clamp(rng.Uniform(0.5, 2.0), scale * scale, 1 / (scale * scale));
      const double w = std::min(1.0, scale * std::sqrt(aspect));
      const double h = std::min(1.0, scale / std::sqrt(aspect));
      const double x = rng.Uniform(0, 1 - w), y = rng.Uniform(0, 1 - h);
      const Box crop = {x * width, y * height, (x + w) * width, (y + h) * height};
      bool satisfied = min_iou < 0;
      for (size_t k = 0; k < boxes.size() && !satisfied; ++k)
        satisfied = Iou(crop, boxes[k]) >= min_iou;
      if (satisfied) {
        candidates.push_back(crop);
        break;
      }
    }
  }
  return candidates[rng.UniformInt(0, static_cast<int64_t>(candidates.size()) - 1)];
}

// Keeps the boxes whose centre lies in `crop` (borders included), clipped to it and
// normalised to it; mirrored when `flip`.
void KeepBoxes(const std::vector<Box>& boxes, const std::vector<int64_t>& labels, const Box& crop,
               bool flip, AugmentDraw& draw) {
  const double w = crop[2] - crop[0], h = crop[3] - crop[1];
  for (size_t k = 0; k < boxes.size(); ++k) {
    const Box& b = boxes[k];
    const double cx = 0.5 * (b[0] + b[2]), cy = 0.5 * (b[1] + b[3]);
    if (cx < crop[0] || cx > crop[2] || cy < crop[1] || cy > crop[3]) continue;
    double x1 = (std::max(b[0], crop[0]) - crop[0]) / w;
    double x2 = (std::min(b[2], crop[2]) - crop[0]) / w;
    const double y1 = (std::max(b[1], crop[1]) - crop[1]) / h;
    const double y2 = (std::min(b[3], crop[3]) - crop[1]) / h;
    if (flip) {
      const double mirrored_x1 = 1 - x2;
      x2 = 1 - x1;
      x1 = mirrored_x1;
    }
    draw.boxes.push_back({float(x1), float(y1), float(x2), float(y2)});
    draw.labels.push_back(labels[k]);
  }
}

std::vector<Box> ToDouble(const std::vector<std::array<float, 4>>& boxes, double dx, double dy) {
  std::vector<Box> out;
  out.reserve(boxes.size());
  for (const auto& b : boxes) out.push_back({b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy});
  return out;
}

}  // namespace

AugmentDraw IdentityDraw(int width, int height, const std::vector<std::array<float, 4>>& boxes,
                         const std::vector<int64_t>& labels) {
  AugmentDraw draw;
  draw.source = {0, 0, double(width), double(height)};
  KeepBoxes(ToDouble(boxes, 0, 0), labels, draw.source, false, draw);
  return draw;
}

AugmentDraw DrawAugment(int width, int height, const std::vector<std::array<float, 4>>& boxes,
                        const std::vector<int64_t>& labels, data::Rng& rng) {
  AugmentDraw draw;
  // Photometric first, as in the library's pipeline (brightness, then contrast).
  if (rng.Bernoulli(0.5)) draw.brightness = rng.Uniform(-32, 32);
  if (rng.Bernoulli(0.5)) draw.contrast = rng.Uniform(0.5, 1.5);
  // Zoom-out: the image at a uniform position on a canvas `ratio` times its size.
  const bool expand = rng.Bernoulli(0.5);
  const double ratio = rng.Uniform(1.0, 4.0);
  const double left_fraction = rng.Uniform(), top_fraction = rng.Uniform();
  double canvas_width = width, canvas_height = height, left = 0, top = 0;
  if (expand) {
    canvas_width = width * ratio;
    canvas_height = height * ratio;
    left = left_fraction * (canvas_width - width);
    top = top_fraction * (canvas_height - height);
  }
  const std::vector<Box> canvas_boxes = ToDouble(boxes, left, top);
  const Box crop = DrawCrop(canvas_width, canvas_height, canvas_boxes, rng);
  draw.flip = rng.Bernoulli(0.5);
  KeepBoxes(canvas_boxes, labels, crop, draw.flip, draw);
  draw.source = {crop[0] - left, crop[1] - top, crop[2] - left, crop[3] - top};
  return draw;
}

torch::Tensor RenderBatch(const torch::Tensor& images, const std::vector<int64_t>& indices,
                          const std::vector<AugmentDraw>& draws, int size) {
  TORCH_CHECK(images.dim() == 4 && images.size(3) == 3 && images.scalar_type() == torch::kUInt8,
              "RenderBatch: images must be uint8 [N, H, W, 3]");
  TORCH_CHECK(indices.size() == draws.size(), "RenderBatch: one draw per index");
  const auto batch = static_cast<int64_t>(indices.size());
  const double height = images.size(1), width = images.size(2);
  std::vector<float> photometric, theta;
  for (const AugmentDraw& d : draws) {
    photometric.push_back(float(d.brightness));
    photometric.push_back(float(d.contrast));
    // Output coordinate u in [-1, 1] (pixel centres, align_corners=false) -> input coordinate
    // g = a u + b: the output's left edge lands on source[0], its right edge on source[2].
    const double sw = d.source[2] - d.source[0], sh = d.source[3] - d.source[1];
    const double a = sw / width, b = (2 * d.source[0] + sw) / width - 1;
    const double c = sh / height, e = (2 * d.source[1] + sh) / height - 1;
    theta.insert(theta.end(), {float(d.flip ? -a : a), 0.f, float(b), 0.f, float(c), float(e)});
  }
  const auto device = images.device();
  const auto to_device = [&](std::vector<float>& v, std::vector<int64_t> shape) {
    return torch::from_blob(v.data(), shape, torch::kFloat32).to(device, false, /*copy=*/true);
  };
  const torch::Tensor p = to_device(photometric, {batch, 2, 1, 1});
  const torch::Tensor index = torch::tensor(indices, torch::kInt64).to(device);
  torch::Tensor x = images.index_select(0, index).permute({0, 3, 1, 2}).to(torch::kFloat32);
  x = (x + p.select(1, 0).unsqueeze(1)).clamp(0, 255);
  x = (x * p.select(1, 1).unsqueeze(1)).clamp(0, 255);
  const torch::Tensor mean = torch::tensor({104.f, 117.f, 123.f}).view({1, 3, 1, 1}).to(device);
  x = x - mean;
  const torch::Tensor grid =
      F::affine_grid(to_device(theta, {batch, 2, 3}), {batch, 3, size, size}, false);
  return F::grid_sample(x, grid,
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kZeros)
                            .align_corners(false))
      .contiguous(torch::MemoryFormat::ChannelsLast);
}

}  // namespace scratchdet::gpu_check
