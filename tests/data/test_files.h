// Small files for data tests, written under $TEST_TMPDIR.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "tests/testing/temp_files.h"

namespace scratchdet::data::testing {

inline std::filesystem::path FreshDir(const std::string& name) {
  return ::scratchdet::testing::FreshDir(name);
}

inline void WriteFile(const std::filesystem::path& path, const std::string& text) {
  ::scratchdet::testing::WriteText(path.string(), text);
}

inline void WriteJpeg(const std::filesystem::path& path, int width, int height) {
  std::filesystem::create_directories(path.parent_path());
  cv::imwrite(path.string(), cv::Mat(height, width, CV_8UC3, cv::Scalar(30, 60, 90)));
}

// A VOC annotation; `objects` is raw <object> XML.
inline std::string VocXml(int width, int height, const std::string& objects) {
  return "<annotation><filename>x.jpg</filename><size><width>" + std::to_string(width) +
         "</width><height>" + std::to_string(height) + "</height><depth>3</depth></size>" +
         objects + "</annotation>";
}

inline std::string VocObjectXml(const std::string& name, int xmin, int ymin, int xmax, int ymax,
                                int difficult = 0) {
  return "<object><name>" + name + "</name><difficult>" + std::to_string(difficult) +
         "</difficult><bndbox><xmin>" + std::to_string(xmin) + "</xmin><ymin>" +
         std::to_string(ymin) + "</ymin><xmax>" + std::to_string(xmax) + "</xmax><ymax>" +
         std::to_string(ymax) + "</ymax></bndbox></object>";
}

}  // namespace scratchdet::data::testing
