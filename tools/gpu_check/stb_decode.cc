#include "tools/gpu_check/stb_decode.h"

#include <stdexcept>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#include <stb/stb_image.h>

namespace scratchdet::gpu_check {

torch::Tensor DecodeBgr(const std::string& path) {
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &width, &height, &channels, 3);
  if (pixels == nullptr)
    throw std::runtime_error(path + ": cannot decode (" + stbi_failure_reason() + ")");
  // RGB -> BGR: reverse the channel axis.
  torch::Tensor rgb = torch::from_blob(pixels, {height, width, 3}, torch::kUInt8);
  torch::Tensor bgr = rgb.flip({2}).contiguous();
  stbi_image_free(pixels);
  return bgr;
}

}  // namespace scratchdet::gpu_check
