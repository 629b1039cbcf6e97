#include "scratchdet/data/voc_annotation.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "scratchdet/core/error.h"
#include "tests/testing/temp_files.h"

namespace scratchdet::data {
namespace {

using ::scratchdet::testing::WriteTemp;

std::string Annotation(const std::string& size, const std::string& objects) {
  return "<annotation><folder>VOC2007</folder><filename>000001.jpg</filename>" + size + objects +
         "</annotation>";
}

const char kSize[] = "<size><width>353</width><height>500</height><depth>3</depth></size>";

std::string Object(const std::string& name, const std::string& box, int difficult = 0) {
  return "<object><name>" + name + "</name><pose>Left</pose><truncated>1</truncated><difficult>" +
         std::to_string(difficult) + "</difficult>" + box + "</object>";
}

std::string Box(const std::string& xmin, const std::string& ymin, const std::string& xmax,
                const std::string& ymax) {
  return "<bndbox><xmin>" + xmin + "</xmin><ymin>" + ymin + "</ymin><xmax>" + xmax +
         "</xmax><ymax>" + ymax + "</ymax></bndbox>";
}

// Expects ReadVocAnnotation to throw with a message containing the path and every fragment.
void ExpectError(const std::string& path, const std::vector<std::string>& fragments) {
  try {
    ReadVocAnnotation(path);
    FAIL() << "no error for " << path;
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    for (const auto& f : fragments) EXPECT_NE(message.find(f), std::string::npos) << message;
  }
}

TEST(VocAnnotationTest, ReadsTheDevkitLayout) {
  // VOC2007 000001.xml, abridged (two objects, one with a person-layout <part> whose nested
  // <name>/<bndbox> must not be mistaken for the object's own).
  const std::string path = WriteTemp(
      "000001.xml",
      Annotation(kSize,
                 Object("dog", Box("48", "240", "195", "371")) +
                     "<object><name>person</name><truncated>0</truncated><difficult>1</difficult>"
                     "<bndbox><xmin>8</xmin><ymin>12</ymin><xmax>352</xmax><ymax>498</ymax>"
                     "</bndbox><part><name>head</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
                     "<xmax>2</xmax><ymax>2</ymax></bndbox></part></object>"));
  const VocAnnotation a = ReadVocAnnotation(path);
  EXPECT_EQ(a.path, path);
  EXPECT_EQ(a.filename, "000001.jpg");
  EXPECT_EQ(a.width, 353);
  EXPECT_EQ(a.height, 500);
  EXPECT_EQ(a.depth, 3);
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].name, "dog");
  EXPECT_EQ(a.objects[0].xmin, 48);
  EXPECT_EQ(a.objects[0].ymin, 240);
  EXPECT_EQ(a.objects[0].xmax, 195);
  EXPECT_EQ(a.objects[0].ymax, 371);
  EXPECT_FALSE(a.objects[0].difficult);
  EXPECT_TRUE(a.objects[0].truncated);
  EXPECT_EQ(a.objects[1].name, "person");
  EXPECT_EQ(a.objects[1].xmin, 8);
  EXPECT_EQ(a.objects[1].ymax, 498);
  EXPECT_TRUE(a.objects[1].difficult);
  EXPECT_FALSE(a.objects[1].truncated);
}

TEST(VocAnnotationTest, OptionalFieldsAndWhitespace) {
  // No <difficult>/<truncated>/<depth>/<filename>; padded and fractional coordinates; boxes on
  // the image border (1 and width) and a one-pixel box (xmin == xmax) are valid.
  const std::string path =
      WriteTemp("optional.xml",
                "<annotation><size><width> 10 </width><height>\n20\n</height></size>"
                "<object><name> cat </name>" +
                    Box(" 1 ", "1", "10", "20") + "</object><object><name>cat</name>" +
                    Box("2.5", "3", "2.5", "3") + "</object></annotation>");
  const VocAnnotation a = ReadVocAnnotation(path);
  EXPECT_EQ(a.filename, "");
  EXPECT_EQ(a.width, 10);
  EXPECT_EQ(a.height, 20);
  EXPECT_EQ(a.depth, 3);
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].name, "cat");
  EXPECT_EQ(a.objects[0].xmin, 1);
  EXPECT_EQ(a.objects[0].xmax, 10);
  EXPECT_FALSE(a.objects[0].difficult);
  EXPECT_EQ(a.objects[1].xmin, 2.5);
}

TEST(VocAnnotationTest, NoObjectsIsValid) {
  const VocAnnotation a = ReadVocAnnotation(WriteTemp("empty.xml", Annotation(kSize, "")));
  EXPECT_TRUE(a.objects.empty());
  EXPECT_EQ(a.width, 353);
}

TEST(VocAnnotationTest, UnreadableFile) {
  ExpectError(::scratchdet::testing::TempDir() + "/does_not_exist.xml", {"cannot read"});
}

TEST(VocAnnotationTest, MalformedXmlGivesOffset) {
  const std::string path = WriteTemp("malformed.xml", "<annotation><size><width>3</width></size");
  ExpectError(path, {"malformed XML at offset 39", "Error parsing end element tag"});
}

TEST(VocAnnotationTest, MissingRoot) {
  ExpectError(WriteTemp("noroot.xml", "<notes>hi</notes>"), {"<annotation>"});
}

TEST(VocAnnotationTest, MissingSize) {
  ExpectError(WriteTemp("nosize.xml", Annotation("", Object("dog", Box("1", "1", "2", "2")))),
              {"no <size>"});
  ExpectError(WriteTemp("nowidth.xml", Annotation("<size><height>4</height></size>", "")),
              {"<size>", "<width>"});
  ExpectError(
      WriteTemp("zerowidth.xml", Annotation("<size><width>0</width><height>4</height></size>", "")),
      {"<width>", "positive integer"});
}

TEST(VocAnnotationTest, MissingName) {
  ExpectError(WriteTemp("noname.xml",
                        Annotation(kSize, "<object>" + Box("1", "1", "2", "2") + "</object>")),
              {"<object> 1", "<name>"});
}

TEST(VocAnnotationTest, MissingBndbox) {
  ExpectError(WriteTemp("nobox.xml", Annotation(kSize, Object("dog", Box("1", "1", "2", "2")) +
                                                           "<object><name>cat</name></object>")),
              {"<object> 2 (cat)", "no <bndbox>"});
  ExpectError(
      WriteTemp("noxmax.xml", Annotation(kSize, Object("dog",
                                                       "<bndbox><xmin>1</xmin><ymin>1</ymin>"
                                                       "<ymax>2</ymax></bndbox>"))),
      {"<bndbox>", "<xmax>"});
}

TEST(VocAnnotationTest, NonNumericCoordinate) {
  ExpectError(WriteTemp("nan.xml", Annotation(kSize, Object("dog", Box("1", "1x", "2", "2")))),
              {"<object> 1 (dog) <bndbox>", "<ymin>", "not a number", "'1x'"});
}

TEST(VocAnnotationTest, DegenerateBox) {
  ExpectError(WriteTemp("degx.xml", Annotation(kSize, Object("dog", Box("40", "1", "12", "2")))),
              {"(dog)", "xmax=12 < xmin=40"});
  ExpectError(WriteTemp("degy.xml", Annotation(kSize, Object("dog", Box("1", "9", "2", "8")))),
              {"(dog)", "ymax=8 < ymin=9"});
}

TEST(VocAnnotationTest, BoxOutsideImage) {
  // Width 353: xmax = 353 is the last pixel (valid), 354 is outside.
  EXPECT_NO_THROW(ReadVocAnnotation(
      WriteTemp("edge.xml", Annotation(kSize, Object("dog", Box("1", "1", "353", "500"))))));
  ExpectError(WriteTemp("outx.xml", Annotation(kSize, Object("dog", Box("1", "1", "354", "2")))),
              {"(dog)", "outside the 353x500 image"});
  ExpectError(WriteTemp("outy.xml", Annotation(kSize, Object("dog", Box("1", "1", "2", "501")))),
              {"outside"});
  ExpectError(WriteTemp("neg.xml", Annotation(kSize, Object("dog", Box("-3", "1", "2", "2")))),
              {"outside"});
}

TEST(VocAnnotationTest, BadDifficultFlag) {
  ExpectError(WriteTemp("diff.xml", Annotation(kSize,
                                               "<object><name>dog</name><difficult>yes"
                                               "</difficult>" +
                                                   Box("1", "1", "2", "2") + "</object>")),
              {"(dog)", "<difficult>", "0 or 1"});
}

TEST(VocAnnotationTest, ClassNamesAreTheDevkitOrder) {
  const auto& names = VocClassNames();
  ASSERT_EQ(names.size(), 20u);
  EXPECT_EQ(names.front(), "aeroplane");
  EXPECT_EQ(names[11], "dog");
  EXPECT_EQ(names[14], "person");
  EXPECT_EQ(names.back(), "tvmonitor");
}

}  // namespace
}  // namespace scratchdet::data
