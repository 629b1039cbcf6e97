#include "scratchdet/data/voc_dataset.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "scratchdet/data/pixel_convention.h"
#include "tests/data/test_files.h"

namespace scratchdet::data {
namespace {

namespace fs = std::filesystem;
using testing::FreshDir;
using testing::VocObjectXml;
using testing::VocXml;
using testing::WriteFile;
using testing::WriteJpeg;

// A VOC-layout folder with image "a" (a dog and a difficult cat) and, per test, image "b".
fs::path MakeFolder(const std::string& name, const std::string& b_xml, bool b_image = true) {
  const fs::path dir = FreshDir(name);
  WriteFile(dir / "ImageSets/Main/train.txt", "a\nb\n\n");
  WriteFile(
      dir / "Annotations/a.xml",
      VocXml(40, 30, VocObjectXml("dog", 1, 2, 10, 20) + VocObjectXml("cat", 5, 5, 40, 30, 1)));
  WriteJpeg(dir / "JPEGImages/a.jpg", 40, 30);
  if (!b_xml.empty()) WriteFile(dir / "Annotations/b.xml", b_xml);
  if (b_image) WriteJpeg(dir / "JPEGImages/b.jpg", 40, 30);
  return dir;
}

VocDatasetOptions Options(const fs::path& root, OnBadSample policy = OnBadSample::kError) {
  VocDatasetOptions options;
  options.root = root.string();
  options.spec = "train";
  options.on_bad_sample = policy;
  return options;
}

const std::string kGoodB = VocXml(40, 30, VocObjectXml("person", 3, 3, 8, 9));

// Expects construction to fail under kError with `reason` and a message containing each of
// `needles`, and under kSkip to leave out image b and count it once under `reason`.
void ExpectBadB(const fs::path& root, BadSampleReason reason,
                const std::vector<std::string>& needles) {
  try {
    VocDataset dataset(Options(root));
    ADD_FAILURE() << "expected a BadSampleError";
  } catch (const BadSampleError& error) {
    EXPECT_EQ(error.reason(), reason) << error.what();
    for (const auto& needle : needles)
      EXPECT_NE(std::string(error.what()).find(needle), std::string::npos)
          << "'" << error.what() << "' lacks '" << needle << "'";
  }
  VocDataset skipping(Options(root, OnBadSample::kSkip));
  ASSERT_EQ(skipping.size(), 1u);
  EXPECT_EQ(skipping.AnnotationOnly(0).image_id, "a");
  const auto counts = skipping.bad_samples().Counts();
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_EQ(counts.at(ReasonName(reason)), 1);
}

TEST(VocDatasetTest, ConvertsOneBasedInclusiveBoxesToContinuousPixels) {
  const VocDataset dataset(Options(MakeFolder("voc_good", kGoodB)));
  ASSERT_EQ(dataset.size(), 2u);
  EXPECT_EQ(dataset.class_names().size(), 20u);
  const Sample a = dataset.AnnotationOnly(0);
  EXPECT_TRUE(a.image.empty());
  EXPECT_EQ(a.width, 40);
  EXPECT_EQ(a.height, 30);
  ASSERT_EQ(a.boxes.size(), 2u);
  // xmin=1..xmax=10 covers 10 pixel columns: continuous [0, 10].
  EXPECT_EQ(a.boxes[0], (std::array<float, 4>{0, 1, 10, 20}));
  EXPECT_EQ(a.labels[0], 11);                            // "dog" in the devkit order
  EXPECT_EQ(a.labels[1], 7);                             // "cat"
  EXPECT_EQ(a.difficult, (std::vector<uint8_t>{0, 1}));  // passed through, never dropped here
  EXPECT_EQ(a.crowd, (std::vector<uint8_t>{0, 0}));
  const auto back = ContinuousToVoc(a.boxes[0][0], a.boxes[0][1], a.boxes[0][2], a.boxes[0][3]);
  EXPECT_EQ(back, (std::array<double, 4>{1, 2, 10, 20}));
  const Sample loaded = dataset.Load(0);
  EXPECT_EQ(loaded.image.cols, 40);
  EXPECT_EQ(loaded.image.rows, 30);
  EXPECT_EQ(loaded.image.type(), CV_8UC3);
  EXPECT_EQ(LoadGroundTruths(dataset).size(), 2u);
}

TEST(VocDatasetTest, MissingImageFile) {
  ExpectBadB(MakeFolder("voc_missing_image", kGoodB, false), BadSampleReason::kMissingImage,
             {"JPEGImages/b.jpg", "not found"});
}

TEST(VocDatasetTest, ListedImageWithoutAnnotation) {
  ExpectBadB(MakeFolder("voc_missing_xml", ""), BadSampleReason::kMissingAnnotation,
             {"Annotations/b.xml", "train.txt"});
}

TEST(VocDatasetTest, MalformedXml) {
  ExpectBadB(MakeFolder("voc_bad_xml", "<annotation><size><width>40</width>"),
             BadSampleReason::kInvalidAnnotation, {"b.xml", "malformed XML"});
}

TEST(VocDatasetTest, BoxWithXmaxBelowXmin) {
  ExpectBadB(MakeFolder("voc_xmax", VocXml(40, 30, VocObjectXml("dog", 12, 3, 8, 9))),
             BadSampleReason::kInvalidAnnotation, {"b.xml", "xmax=8 < xmin=12"});
}

TEST(VocDatasetTest, BoxOutsideTheImage) {
  ExpectBadB(MakeFolder("voc_outside", VocXml(40, 30, VocObjectXml("dog", 3, 3, 41, 9))),
             BadSampleReason::kInvalidAnnotation, {"b.xml", "outside"});
}

TEST(VocDatasetTest, UnknownClassName) {
  ExpectBadB(MakeFolder("voc_class", VocXml(40, 30,
                                            VocObjectXml("dog", 1, 1, 5, 5) +
                                                VocObjectXml("unicorn", 1, 1, 5, 5))),
             BadSampleReason::kUnknownClass, {"b.xml", "<object> 2", "'unicorn'"});
}

TEST(VocDatasetTest, AnnotationWithoutObjectsUnlessAllowed) {
  const fs::path root = MakeFolder("voc_empty", VocXml(40, 30, ""));
  ExpectBadB(root, BadSampleReason::kEmptyAnnotation, {"b.xml", "no <object>"});
  VocDatasetOptions options = Options(root);
  options.allow_empty = true;
  const VocDataset dataset(options);
  ASSERT_EQ(dataset.size(), 2u);
  EXPECT_TRUE(dataset.AnnotationOnly(1).boxes.empty());
}

TEST(VocDatasetTest, CorruptAndEmptyJpegFailAtLoadAndAreSkippedByTryLoad) {
  for (const std::string& bytes : {std::string("this is not a jpeg"), std::string()}) {
    const fs::path root = MakeFolder("voc_corrupt", kGoodB);
    WriteFile(root / "JPEGImages/b.jpg", bytes);
    const VocDataset strict(Options(root));
    ASSERT_EQ(strict.size(), 2u);  // only existence is checked up front
    try {
      strict.Load(1);
      ADD_FAILURE() << "expected a BadSampleError";
    } catch (const BadSampleError& error) {
      EXPECT_EQ(error.reason(), BadSampleReason::kCorruptImage);
      EXPECT_NE(std::string(error.what()).find("b.jpg"), std::string::npos);
    }
    EXPECT_THROW(strict.TryLoad(1), BadSampleError);
    const VocDataset skipping(Options(root, OnBadSample::kSkip));
    EXPECT_FALSE(skipping.TryLoad(1).has_value());
    EXPECT_FALSE(skipping.TryLoad(1).has_value());
    EXPECT_TRUE(skipping.TryLoad(0).has_value());
    EXPECT_EQ(skipping.bad_samples().Counts().at("corrupt_image"), 1);  // once per file
  }
}

// Issue 15: a JPEG cut to its first third decoded "fine" (grey rows, a libjpeg warning).
TEST(VocDatasetTest, TruncatedJpegIsCorrupt) {
  const fs::path root = MakeFolder("voc_truncated", kGoodB);
  const fs::path b = root / "JPEGImages/b.jpg";
  std::ifstream in(b, std::ios::binary);
  const std::string whole((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  WriteFile(b, whole.substr(0, whole.size() / 3));
  const VocDataset strict(Options(root));
  EXPECT_NO_THROW(strict.Load(0));  // a whole JPEG still loads
  try {
    strict.Load(1);
    ADD_FAILURE() << "a truncated JPEG was accepted";
  } catch (const BadSampleError& error) {
    EXPECT_EQ(error.reason(), BadSampleReason::kCorruptImage);
    EXPECT_NE(std::string(error.what()).find("b.jpg: JPEG is truncated"), std::string::npos)
        << error.what();
  }
  WriteFile(b, whole + std::string(16, '\0'));  // padding after the end marker is fine
  EXPECT_NO_THROW(strict.Load(1));
}

// Issue 15: an id listed twice stopped even in skip mode, naming the JPEG; now the message
// names the list line, and skip mode leaves the second listing out.
TEST(VocDatasetTest, ImageListedTwice) {
  const fs::path root = MakeFolder("voc_listed_twice", kGoodB);
  WriteFile(root / "ImageSets/Main/train.txt", "a\nb\na\n");
  try {
    VocDataset dataset(Options(root));
    ADD_FAILURE() << "expected a BadSampleError";
  } catch (const BadSampleError& error) {
    EXPECT_EQ(error.reason(), BadSampleReason::kDuplicateImage);
    EXPECT_NE(std::string(error.what()).find("train.txt:3: image id 'a' is listed twice (first at "),
              std::string::npos)
        << error.what();
  }
  const VocDataset skipping(Options(root, OnBadSample::kSkip));
  EXPECT_EQ(skipping.size(), 2u);
  EXPECT_EQ(skipping.bad_samples().Counts().at("duplicate_image"), 1);
}

TEST(VocDatasetTest, ImageOfAnotherSizeThanAnnotated) {
  const fs::path root = MakeFolder("voc_size", kGoodB);
  WriteJpeg(root / "JPEGImages/b.jpg", 41, 30);
  const VocDataset dataset(Options(root));
  EXPECT_THROW(dataset.Load(1), BadSampleError);
}

TEST(VocDatasetTest, MalformedImageListAndMissingSplit) {
  const fs::path root = MakeFolder("voc_list", kGoodB);
  WriteFile(root / "ImageSets/Main/train.txt", "a\nb 1\n");
  try {
    VocDataset dataset(Options(root));
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("train.txt:2"), std::string::npos) << error.what();
  }
  VocDatasetOptions options = Options(root);
  options.spec = "val";
  EXPECT_THROW(VocDataset{options}, Error);
}

TEST(VocDatasetTest, EverySampleBadUnderSkipIsStillAnError) {
  const fs::path root = MakeFolder("voc_all_bad", kGoodB);
  WriteFile(root / "ImageSets/Main/train.txt", "b\n");
  fs::remove(root / "JPEGImages/b.jpg");
  EXPECT_THROW(VocDataset(Options(root, OnBadSample::kSkip)), Error);
}

TEST(VocDatasetTest, DevkitSpecJoinsYears) {
  const fs::path root = FreshDir("voc_devkit");
  for (const std::string year : {"2007", "2012"}) {
    const fs::path folder = root / ("VOC" + year);
    const std::string id = year == "2007" ? "000005" : "2008_000001";
    WriteFile(folder / "ImageSets/Main/trainval.txt", id + "\n");
    WriteFile(folder / ("Annotations/" + id + ".xml"),
              VocXml(40, 30, VocObjectXml("bus", 1, 1, 4, 4)));
    WriteJpeg(folder / ("JPEGImages/" + id + ".jpg"), 40, 30);
  }
  VocDatasetOptions options = Options(root);
  options.spec = "voc07_trainval+voc12_trainval";
  const VocDataset both(options);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both.AnnotationOnly(0).image_id, "000005");
  EXPECT_EQ(both.AnnotationOnly(1).image_id, "2008_000001");
  options.spec = "voc07_trainval+voc07_trainval";
  EXPECT_THROW(VocDataset{options}, Error);  // duplicate image ids
}

TEST(VocDatasetTest, OwnClassList) {
  const fs::path root =
      MakeFolder("voc_classes", VocXml(40, 30, VocObjectXml("widget", 1, 1, 4, 4)));
  WriteFile(root / "Annotations/a.xml", VocXml(40, 30, VocObjectXml("gadget", 1, 1, 4, 4)));
  WriteFile(root / "classes.txt", "gadget\n\nwidget\n");
  const VocDataset from_file(Options(root));
  EXPECT_EQ(from_file.class_names(), (std::vector<std::string>{"gadget", "widget"}));
  EXPECT_EQ(from_file.AnnotationOnly(1).labels[0], 1);
  VocDatasetOptions options = Options(root);
  options.classes = {"widget", "gadget"};
  const VocDataset given(options);
  EXPECT_EQ(given.AnnotationOnly(1).labels[0], 0);
  WriteFile(root / "classes.txt", "gadget\nwidget\ngadget\n");
  try {
    VocDataset dataset(Options(root));
    ADD_FAILURE();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("classes.txt:3"), std::string::npos);
  }
}

}  // namespace
}  // namespace scratchdet::data
