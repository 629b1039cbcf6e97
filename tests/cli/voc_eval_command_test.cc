// `scratchdet voc-eval` end to end on examples/voc_eval and on bad inputs.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "scratchdet/core/atomic_file.h"
#include "tests/cli/command_runner.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::cli {
namespace {

using ::scratchdet::testing::FreshDir;
using ::scratchdet::testing::WriteText;

namespace fs = std::filesystem;

const std::string kExample = "examples/voc_eval";

std::vector<std::string> ExampleArgs() {
  return {"voc-eval",
          "--annotations",
          kExample + "/Annotations",
          "--imageset",
          kExample + "/ImageSets/test.txt",
          "--detections",
          kExample + "/results/det_test_{cls}.txt",
          "--classes",
          kExample + "/classes.txt"};
}


// The line of `out` that starts with `prefix` followed by a space, or "" if none.
std::string Line(const std::string& out, const std::string& prefix) {
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix + " ", 0) == 0) return line;
  return "";
}

void Write(const std::string& path, const std::string& contents) { WriteText(path, contents); }

// The example worked by hand (IoUs with +1 pixel widths):
//
// cat, npos 2 (the cat in 000002 at (300,200,450,350) is difficult). Detections by score:
//   .95 000001 (52,58,198,255)  IoU 28077/29870 = .94 with (50,60,200,250)   TP  P 1   R .5
//   .90 000002 (300,200,450,350) the difficult cat, IoU 1                    ignored
//   .80 000004 no cat in that image                                          FP  P 1/2 R .5
//   .70 000001 (50,60,200,250)  the cat already taken                        FP  P 1/3 R .5
//   .60 000002 (12,14,98,101)   IoU 7569/8368 = .90 with (10,10,100,100)     TP  P 1/2 R 1
//   VOC07: t = 0..0.5 -> 1 (6 points), t = 0.6..1 -> 1/2 (5 points): 8.5/11 = 17/22.
//   area: precision envelope 1 up to recall .5, then 1/2: .5 + .25 = 3/4.
// dog, npos 2:
//   .92 000002 (120,30,250,360) no dog in that image                         FP  P 0   R 0
//   .88 000003 (30,40,300,330)  exact                                        TP  P 1/2 R .5
//   .85 000001 (100,80,400,300) contains the dog (220,80,400,300):
//       IoU 181*221 / (301*221) = 40001/66521 = .60                          TP  P 2/3 R 1
//   VOC07: every t has max precision 2/3 -> 2/3; area: 2/3 * 1 = 2/3.
//   At IoU 0.7 the last one is FP: precision 0, 1/2, 1/3, recall 0, .5, .5 ->
//   VOC07 6 * (1/2) / 11 = 3/11, area 1/4.
// person: npos 1, no detection file -> 0.  bird: no ground truth -> undefined, excluded.
// mAP VOC07 = (17/22 + 2/3 + 0) / 3 = 95/198; area = (3/4 + 2/3 + 0) / 3 = 17/36;
// VOC07 at IoU 0.7 = (17/22 + 3/11 + 0) / 3 = 23/66.
TEST(VocEvalCommandTest, ExampleMatchesHandComputedMap) {
  const std::string json_path = FreshDir("example") + "/result.json";
  std::vector<std::string> args = ExampleArgs();
  args.insert(args.end(), {"--json", json_path});
  const CommandOutput run = RunCommand(args);
  ASSERT_EQ(run.status, 0) << run.error;
  EXPECT_NE(Line(run.out, "mAP").find("47.98  over 3 of 4 classes"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("undefined (no ground truth, excluded): bird"), std::string::npos);
  EXPECT_NE(Line(run.out, "cat").find("77.27       2        5       2        2"), std::string::npos)
      << run.out;
  EXPECT_NE(Line(run.out, "person").find(" 0.00"), std::string::npos) << run.out;
  EXPECT_NE(Line(run.out, "bird").find("undefined"), std::string::npos) << run.out;

  const nlohmann::json j = nlohmann::json::parse(ReadFile(json_path));
  EXPECT_NEAR(j["mAP"].get<double>(), 95.0 / 198.0, 1e-12);
  EXPECT_NEAR(j["per_class"]["cat"].get<double>(), 17.0 / 22.0, 1e-12);
  EXPECT_NEAR(j["per_class"]["dog"].get<double>(), 2.0 / 3.0, 1e-12);
  EXPECT_EQ(j["per_class"]["person"].get<double>(), 0.0);
  EXPECT_TRUE(j["per_class"]["bird"].is_null());
  EXPECT_EQ(j["excluded_classes"], nlohmann::json({"bird"}));
  EXPECT_EQ(j["npos"], nlohmann::json({{"cat", 2}, {"dog", 2}, {"person", 1}, {"bird", 0}}));
  EXPECT_EQ(j["metric"], "voc07");
  // Written atomically: no temporary left beside it.
  EXPECT_EQ(std::distance(fs::directory_iterator(fs::path(json_path).parent_path()),
                          fs::directory_iterator()),
            1);
}

TEST(VocEvalCommandTest, ExampleAreaMetricAndIouThreshold) {
  const std::string dir = FreshDir("options");
  std::vector<std::string> area = ExampleArgs();
  area.insert(area.end(), {"--metric", "area", "--json", dir + "/area.json"});
  ASSERT_EQ(RunCommand(area).status, 0);
  const nlohmann::json a = nlohmann::json::parse(ReadFile(dir + "/area.json"));
  EXPECT_NEAR(a["mAP"].get<double>(), 17.0 / 36.0, 1e-12);
  EXPECT_NEAR(a["per_class"]["cat"].get<double>(), 0.75, 1e-12);
  EXPECT_EQ(a["metric"], "area");

  std::vector<std::string> strict = ExampleArgs();
  strict.insert(strict.end(),
                {"--iou", "0.7", "--threshold-mode", "strict", "--json", dir + "/iou.json"});
  ASSERT_EQ(RunCommand(strict).status, 0);
  const nlohmann::json s = nlohmann::json::parse(ReadFile(dir + "/iou.json"));
  EXPECT_NEAR(s["per_class"]["dog"].get<double>(), 3.0 / 11.0, 1e-12);
  EXPECT_NEAR(s["mAP"].get<double>(), 23.0 / 66.0, 1e-12);
  EXPECT_EQ(s["threshold_mode"], "strict");
}

TEST(VocEvalCommandTest, ClassesAsCommaList) {
  // Only cat and dog: mAP (17/22 + 2/3) / 2 = 95/132; person's ground truth is then an unknown
  // class, so the list must name it too.
  std::vector<std::string> args = ExampleArgs();
  args.back() = "cat,dog,person";
  const CommandOutput run = RunCommand(args);
  ASSERT_EQ(run.status, 0) << run.error;
  EXPECT_NE(Line(run.out, "mAP").find("47.98  over 3 of 3 classes"), std::string::npos) << run.out;
  args.back() = "cat,dog";
  const CommandOutput unknown = RunCommand(args);
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.error.find("Annotations/000002.xml: <object> 3 has unknown class 'person'"),
            std::string::npos)
      << unknown.error;
}

// A copy of the example whose files a test may break.
struct Scratch {
  std::string dir, annotations, imageset, pattern, classes;
  explicit Scratch(const std::string& name) {
    dir = FreshDir(name);
    fs::copy(kExample, dir, fs::copy_options::recursive);
    annotations = dir + "/Annotations";
    imageset = dir + "/ImageSets/test.txt";
    pattern = dir + "/results/det_test_{cls}.txt";
    classes = dir + "/classes.txt";
  }
  CommandOutput Run() const {
    return RunCommand({"voc-eval", "--annotations", annotations, "--imageset", imageset,
                       "--detections", pattern, "--classes", classes});
  }
};

void ExpectFailure(const CommandOutput& run, const std::string& fragment) {
  EXPECT_EQ(run.status, 1);
  EXPECT_NE(run.error.find(fragment), std::string::npos) << run.error;
}

TEST(VocEvalCommandTest, FiveFieldLine) {
  const Scratch s("five");
  Write(s.dir + "/results/det_test_dog.txt", "000003 0.88 30 40 300 330\n000001 0.85 100 80 400\n");
  ExpectFailure(s.Run(), s.dir + "/results/det_test_dog.txt:2: expected 6 fields");
}

TEST(VocEvalCommandTest, NonNumericField) {
  const Scratch s("nonnumeric");
  Write(s.dir + "/results/det_test_cat.txt", "000001 high 52 58 198 255\n");
  ExpectFailure(s.Run(), s.dir + "/results/det_test_cat.txt:1: field 2 (score)");
}

TEST(VocEvalCommandTest, UnknownImageId) {
  const Scratch s("unknownimage");
  Write(s.dir + "/results/det_test_cat.txt", "000001 0.9 52 58 198 255\n000009 0.8 1 1 2 2\n");
  ExpectFailure(s.Run(),
                s.dir + "/results/det_test_cat.txt:2: image id '000009' is not in the image set");
}

TEST(VocEvalCommandTest, MalformedXml) {
  const Scratch s("malformed");
  Write(s.annotations + "/000003.xml", "<annotation><size><width>5</width></annotation>");
  ExpectFailure(s.Run(), s.annotations + "/000003.xml: malformed XML at offset");
}

TEST(VocEvalCommandTest, MissingAnnotation) {
  const Scratch s("missingxml");
  fs::remove(s.annotations + "/000004.xml");
  ExpectFailure(s.Run(), s.annotations + "/000004.xml: cannot read");
}

TEST(VocEvalCommandTest, UnknownClass) {
  const Scratch s("unknownclass");
  Write(s.classes, "cat\ndog\nbird\n");
  ExpectFailure(s.Run(), s.annotations + "/000002.xml: <object> 3 has unknown class 'person'");
}

TEST(VocEvalCommandTest, PatternWithoutClassPlaceholder) {
  const Scratch s("pattern");
  const CommandOutput run =
      RunCommand({"voc-eval", "--annotations", s.annotations, "--imageset", s.imageset,
                  "--detections", s.dir + "/results/det_test_cat.txt", "--classes", s.classes});
  ExpectFailure(run, "has no {cls} placeholder");
}

// Issue 15: a mistyped --detections pattern scored 0.00 with exit 0.
TEST(VocEvalCommandTest, PatternMatchingNoFileAtAll) {
  const Scratch s("nofiles");
  const CommandOutput run =
      RunCommand({"voc-eval", "--annotations", s.annotations, "--imageset", s.imageset,
                  "--detections", s.dir + "/resluts/det_test_{cls}.txt", "--classes", s.classes});
  ExpectFailure(run, s.dir + "/resluts/det_test_{cls}.txt: no detection file matches this "
                     "pattern for any of the");
}

TEST(VocEvalCommandTest, BadImageSet) {
  const Scratch s("imageset");
  Write(s.imageset, "000001\n\n000002 1\n");
  ExpectFailure(s.Run(), s.imageset + ":3: expected one image id per line");
  Write(s.imageset, "000001\n000001\n");
  ExpectFailure(s.Run(), s.imageset + ":2: image id '000001' repeats line 1");
}

TEST(VocEvalCommandTest, BadFlags) {
  std::vector<std::string> args = ExampleArgs();
  args.insert(args.end(), {"--metric", "voc12"});
  EXPECT_EQ(RunCommand(args).status, 2);
  EXPECT_EQ(RunCommand({"voc-eval", "--imageset", "x"}).status, 2);  // required flags missing
}

TEST(VocEvalCommandTest, DefaultClassesAreVoc) {
  // Without --classes the 20 VOC classes apply: 'cat', 'dog' and 'person' are VOC classes,
  // 'bird' too; the other 16 have no ground truth and are excluded.
  std::vector<std::string> args = ExampleArgs();
  args.resize(args.size() - 2);
  const CommandOutput run = RunCommand(args);
  ASSERT_EQ(run.status, 0) << run.error;
  EXPECT_NE(run.out.find("over 3 of 20 classes"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("47.98"), std::string::npos) << run.out;
}

}  // namespace
}  // namespace scratchdet::cli
