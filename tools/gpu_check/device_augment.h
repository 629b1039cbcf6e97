// SSD's training augmentation as one batched resample on the device, for the GPU check's
// shapes training (tools/gpu_check/gpu_shapes_train.cc). The GPU machine has no C++ OpenCV,
// so the library's transforms (scratchdet/data/transforms, cv::Mat based) cannot run there.
//
// The geometric steps of the paper's recipe (paper.md "Training recipe") -- zoom-out
// (data/transforms/expand.h), SSD's min-IoU crop (min_iou_crop.h), horizontal flip, then the
// resize to the input -- only choose which rectangle of the original image becomes the network
// input, and whether it is mirrored. So they are drawn per image on the CPU from the boxes, with
// the same distributions and box rules as the library's transforms (zoom-out ratio U[1, 4] with
// probability 0.5 on a mean-filled canvas; crop candidates per min-IoU constraint, 50 trials;
// the centre rule; flip with probability 0.5), and then applied to the whole batch at once with
// one bilinear grid_sample: the rectangle may extend past the image, and the mean-subtracted
// image's zero padding is exactly the canvas's mean fill. Differences from the CPU pipeline:
// rectangle corners are continuous, not rounded to whole pixels; the outermost half pixel of
// the image blends towards the mean (zero padding) where cv::resize replicates the border; and
// of the photometric distortion only brightness (+-32) and contrast (0.5-1.5) are applied
// (each with probability 0.5), not saturation and hue, which need an HSV round trip.
#pragma once

#include <torch/torch.h>

#include <array>
#include <cstdint>
#include <vector>

#include "scratchdet/data/rng.h"

namespace scratchdet::gpu_check {

// One image's draw.
struct AugmentDraw {
  // The rectangle of the original image (continuous pixels, (x1, y1, x2, y2); may extend past
  // the image) that becomes the whole network input.
  std::array<double, 4> source = {0, 0, 0, 0};
  bool flip = false;
  double brightness = 0;  // added to every channel (0..255 scale)
  double contrast = 1;    // multiplies every channel
  // The boxes that survive, normalised to the network input ([0, 1], x1 < x2), and their labels.
  std::vector<std::array<float, 4>> boxes;
  std::vector<int64_t> labels;
};

// The identity draw: the whole image, no flip, no photometric change, boxes normalised.
AugmentDraw IdentityDraw(int width, int height, const std::vector<std::array<float, 4>>& boxes,
                         const std::vector<int64_t>& labels);

// Draws zoom-out, min-IoU crop, flip and brightness/contrast for an image of width x height
// with `boxes` (continuous pixels) and `labels`.
AugmentDraw DrawAugment(int width, int height, const std::vector<std::array<float, 4>>& boxes,
                        const std::vector<int64_t>& labels, data::Rng& rng);

// Renders a batch: `images` uint8 [N, H, W, 3] (BGR, on the target device), `indices` which
// of them, `draws` one per index. Returns float [B, 3, size, size], mean-subtracted (SSD's BGR
// mean 104, 117, 123), channels-last, on the images' device.
torch::Tensor RenderBatch(const torch::Tensor& images, const std::vector<int64_t>& indices,
                          const std::vector<AugmentDraw>& draws, int size);

}  // namespace scratchdet::gpu_check
