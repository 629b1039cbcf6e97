#include "scratchdet/eval/voc_detection_file.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::eval {
namespace {

using ::scratchdet::testing::WriteTemp;

const std::unordered_set<std::string> kImages = {"000001", "000002"};

void ExpectError(const std::string& path, const std::string& location,
                 const std::string& fragment) {
  try {
    ReadVocDetectionFile(path, 0, kImages);
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(location), std::string::npos) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << message;
  }
}

TEST(VocDetectionFileTest, ReadsLinesInOrder) {
  const std::string path = WriteTemp(
      "dog.txt", "000001 0.9 48.5 240 195 371\r\n\n000002\t0.25 1 2 3 4\n000001 1e-3 1 1 1 1");
  const auto dets = ReadVocDetectionFile(path, 7, kImages);
  ASSERT_EQ(dets.size(), 3u);
  EXPECT_EQ(dets[0].image_id, "000001");
  EXPECT_EQ(dets[0].class_index, 7);
  EXPECT_DOUBLE_EQ(dets[0].score, 0.9);
  EXPECT_DOUBLE_EQ(dets[0].x1, 48.5);
  EXPECT_DOUBLE_EQ(dets[0].y1, 240);
  EXPECT_DOUBLE_EQ(dets[0].x2, 195);
  EXPECT_DOUBLE_EQ(dets[0].y2, 371);
  EXPECT_EQ(dets[1].image_id, "000002");
  EXPECT_DOUBLE_EQ(dets[1].y2, 4);
  EXPECT_DOUBLE_EQ(dets[2].score, 1e-3);
}

TEST(VocDetectionFileTest, EmptyFileHasNoDetections) {
  EXPECT_TRUE(ReadVocDetectionFile(WriteTemp("empty.txt", ""), 0, kImages).empty());
}

TEST(VocDetectionFileTest, FiveFields) {
  const std::string path = WriteTemp("five.txt", "000001 0.9 1 1 2 2\n000001 0.9 1 1 2\n");
  ExpectError(path, path + ":2:", "expected 6 fields");
}

TEST(VocDetectionFileTest, SevenFields) {
  const std::string path = WriteTemp("seven.txt", "000001 0.9 1 1 2 2 8\n");
  ExpectError(path, path + ":1:", "got 7");
}

TEST(VocDetectionFileTest, NonNumericField) {
  const std::string path = WriteTemp("nan.txt", "\n\n000001 0.9 1 1 2x 2\n");
  ExpectError(path, path + ":3:", "field 5 (xmax) is not a finite number: '2x'");
  const std::string nan_score = WriteTemp("nanscore.txt", "000001 nan 1 1 2 2\n");
  ExpectError(nan_score, nan_score + ":1:", "(score)");
}

TEST(VocDetectionFileTest, UnknownImage) {
  const std::string path = WriteTemp("unknown.txt", "000001 0.9 1 1 2 2\n000003 0.9 1 1 2 2\n");
  ExpectError(path, path + ":2:", "image id '000003' is not in the image set");
}

TEST(VocDetectionFileTest, InvertedBox) {
  const std::string path = WriteTemp("inverted.txt", "000001 0.9 5 1 2 2\n");
  ExpectError(path, path + ":1:", "inverted box");
}

TEST(VocDetectionFileTest, MissingFile) {
  ExpectError("/nonexistent/dog.txt", "/nonexistent/dog.txt", "cannot open");
}

}  // namespace
}  // namespace scratchdet::eval
