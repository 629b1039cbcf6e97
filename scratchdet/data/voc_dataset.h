// PASCAL VOC (and any folder in VOC layout: the shapes benchmark, own data) as a dataset.
#pragma once

#include <string>
#include <vector>

#include "scratchdet/data/dataset.h"

namespace scratchdet::data {

struct VocDatasetOptions : DatasetOptions {
  // Either a VOCdevkit root holding VOC2007/ and/or VOC2012/, or one folder in VOC layout
  // (Annotations/<id>.xml, JPEGImages/<id>.jpg, ImageSets/Main/<split>.txt).
  std::string root;
  // '+'-joined parts; each is "voc07_<split>" / "voc12_<split>" (root/VOC2007, root/VOC2012),
  // or a plain "<split>" of the folder root itself: "voc07_trainval+voc12_trainval",
  // "voc07_test", "trainval".
  std::string spec;
  // Class names in label order. Empty: root/classes.txt when it exists (the shapes benchmark
  // writes one), otherwise the 20 VOC classes.
  std::vector<std::string> classes;
};

// Reads every annotation at construction. Boxes are converted from VOC's 1-based inclusive
// pixels to continuous ones here and nowhere else (pixel_convention.h); a box touching pixel 0
// (written by 0-based tools) is clipped to 0. Difficult objects are always kept and flagged;
// whether they are training targets is the loader's choice (LoaderOptions::keep_difficult).
// Bad inputs (reasons in bad_sample.h) throw BadSampleError naming the file under kError and
// are counted and left out under kSkip; a missing image list or class file always throws.
class VocDataset : public InMemoryDataset {
 public:
  explicit VocDataset(const VocDatasetOptions& options);
};

// One class name per line (blank lines and surrounding spaces ignored); throws Error naming
// the file and line on a duplicate, or when the file is missing or empty.
std::vector<std::string> ReadClassList(const std::string& path);

}  // namespace scratchdet::data
