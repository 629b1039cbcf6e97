// The GPU check decodes the shapes JPEGs with stb_image instead of OpenCV: same pixels in the
// same (BGR) order as the library's cv::imread, and a clear error for a bad file.
#include "tools/gpu_check/stb_decode.h"

#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "tests/testing/temp_files.h"

namespace scratchdet::gpu_check {
namespace {

torch::Tensor FromMat(const cv::Mat& mat) {
  return torch::from_blob(mat.data, {mat.rows, mat.cols, 3}, torch::kUInt8).clone();
}

cv::Mat RandomImage(int rows, int cols) {
  cv::Mat image(rows, cols, CV_8UC3);
  cv::randu(image, 0, 256);
  return image;
}

TEST(StbDecodeTest, PngIsExactAndBgr) {
  const cv::Mat image = RandomImage(13, 17);
  const std::string path = testing::FreshDir("stb_png") + "/a.png";
  ASSERT_TRUE(cv::imwrite(path, image));
  const torch::Tensor decoded = DecodeBgr(path);
  ASSERT_EQ(decoded.sizes(), (std::vector<int64_t>{13, 17, 3}));
  EXPECT_TRUE(torch::equal(decoded, FromMat(image)));
}

TEST(StbDecodeTest, JpegAgreesWithOpenCvWithinDecoderRounding) {
  cv::Mat image(64, 48, CV_8UC3, cv::Scalar(30, 160, 220));
  image(cv::Rect(8, 10, 20, 30)).setTo(cv::Scalar(250, 20, 90));
  const std::string path = testing::FreshDir("stb_jpeg") + "/a.jpg";
  ASSERT_TRUE(cv::imwrite(path, image, {cv::IMWRITE_JPEG_QUALITY, 95}));
  const torch::Tensor ours = DecodeBgr(path).to(torch::kFloat32);
  const torch::Tensor opencv = FromMat(cv::imread(path, cv::IMREAD_COLOR)).to(torch::kFloat32);
  // Two IDCT and chroma-upsampling implementations: a level or two apart on average.
  EXPECT_LT((ours - opencv).abs().mean().item<float>(), 2.0);
  // Channel order: the blue-dominant rectangle stays blue-dominant.
  EXPECT_GT(ours[20][15][0].item<float>(), 200);
  EXPECT_LT(ours[20][15][1].item<float>(), 60);
}

TEST(StbDecodeTest, BadFilesNameTheFile) {
  const std::string missing = testing::TempDir() + "/no_such_image.jpg";
  try {
    DecodeBgr(missing);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
  const std::string garbage = testing::WriteTemp("garbage.jpg", "not an image");
  try {
    DecodeBgr(garbage);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("garbage.jpg: cannot decode"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace scratchdet::gpu_check
