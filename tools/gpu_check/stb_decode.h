// JPEG/PNG decoding without OpenCV, for the GPU check (the GPU machine has no C++ OpenCV):
// stb_image from Debian's libstb-dev, whose header tools/gpu_check.sh --prepare carries there.
#pragma once

#include <torch/torch.h>

#include <string>

namespace scratchdet::gpu_check {

// uint8 [H, W, 3] in BGR order (the library's channel order, as cv::imread gives it). Throws
// std::runtime_error naming the file and stb_image's reason.
torch::Tensor DecodeBgr(const std::string& path);

}  // namespace scratchdet::gpu_check
