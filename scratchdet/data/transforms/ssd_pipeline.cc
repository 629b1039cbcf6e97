#include "scratchdet/data/transforms/ssd_pipeline.h"

#include "scratchdet/data/transforms/expand.h"
#include "scratchdet/data/transforms/horizontal_flip.h"
#include "scratchdet/data/transforms/min_iou_crop.h"
#include "scratchdet/data/transforms/photometric_distort.h"
#include "scratchdet/data/transforms/resize.h"
#include "scratchdet/data/transforms/subtract_mean.h"

namespace scratchdet::data {

std::shared_ptr<const Transform> SsdTrainTransform(int input_size) {
  return std::make_shared<Compose>(std::vector<std::shared_ptr<const Transform>>{
      std::make_shared<PhotometricDistort>(), std::make_shared<Expand>(),
      std::make_shared<MinIouCrop>(), std::make_shared<HorizontalFlip>(),
      std::make_shared<Resize>(input_size, input_size), std::make_shared<SubtractMean>()});
}

std::shared_ptr<const Transform> SsdTestTransform(int input_size) {
  return std::make_shared<Compose>(std::vector<std::shared_ptr<const Transform>>{
      std::make_shared<Resize>(input_size, input_size), std::make_shared<SubtractMean>()});
}

}  // namespace scratchdet::data
