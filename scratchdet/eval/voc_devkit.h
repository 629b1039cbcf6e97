// Evaluation of a VOC devkit layout on disk: Annotations/<id>.xml, an image set file and one
// detection file per class (the inputs of the devkit's VOCevaldet / voc_eval.py).
#pragma once

#include <string>
#include <vector>

#include "scratchdet/eval/voc_eval.h"

namespace scratchdet::eval {

struct VocDevkitInputs {
  std::string annotations_dir;     // holds <image_id>.xml
  std::string image_set;           // file with one image id per line
  std::string detections_pattern;  // contains "{cls}", e.g. results/comp4_det_test_{cls}.txt
  std::vector<std::string> class_names;
};

// Image ids one per line; surrounding whitespace trimmed, blank lines skipped. Throws
// scratchdet::Error naming file and line for a line with more than one field or a repeated id,
// and for an unreadable or empty file.
std::vector<std::string> ReadImageSet(const std::string& path);

// `--classes`: the lines of the file `spec` names when it exists (blank lines skipped), else a
// comma-separated list. Throws for an empty name or a repeated one.
std::vector<std::string> ParseClassList(const std::string& spec);

// The detection file of one class: the pattern with every "{cls}" replaced by the name.
// Throws when the pattern has no "{cls}".
std::string DetectionFileForClass(const std::string& pattern, const std::string& class_name);

// Reads every annotation of the image set and every class's detection file (a missing file
// means no detections for that class) and evaluates them with EvaluateVoc. An object whose
// class is not in class_names is an error naming the annotation file and the object.
VocEvalResult EvaluateVocDevkit(const VocDevkitInputs& inputs, const VocEvalOptions& options = {});

}  // namespace scratchdet::eval
