#include "scratchdet/report/paper_catalogue.h"

namespace scratchdet::report {

const std::vector<PaperTable>& PaperTables() {
  static const auto* tables = new std::vector<PaperTable>{
      {"A",
       "BatchNorm placement x learning rate",
       "SSD300, VGG16 backbone, trained from scratch",
       {
           {"nobn_lr0.001", "no BN, lr 0.001", 67.6},
           {"nobn_lr0.01", "no BN, lr 0.01", std::nullopt},
           {"nobn_lr0.05", "no BN, lr 0.05", std::nullopt},
           {"bn_head_lr0.001", "BN in head only, lr 0.001", 71.0},
           {"bn_head_lr0.01", "BN in head only, lr 0.01", 75.6},
           {"bn_head_lr0.05", "BN in head only, lr 0.05", std::nullopt},
           {"bn_backbone_lr0.001", "BN in backbone only, lr 0.001", 72.5},
           {"bn_backbone_lr0.01", "BN in backbone only, lr 0.01", 77.8},
           {"bn_backbone_lr0.05", "BN in backbone only, lr 0.05", 78.0},
           {"bn_both_lr0.001", "BN in backbone and head, lr 0.001", std::nullopt},
           {"bn_both_lr0.01", "BN in backbone and head, lr 0.01", std::nullopt},
           {"bn_both_lr0.05", "BN in backbone and head, lr 0.05", 78.7},
       },
       {}},
      {"B",
       "Pretrained vs scratch",
       "SSD300, VOC07 test",
       {
           {"vgg16_pretrained", "VGG16, ImageNet pretrained", 77.2},
           {"vgg16_bn_pretrained", "VGG16-BN, ImageNet pretrained", 78.2},
           {"vgg16_bn_scratch", "VGG16-BN, BN in head, scratch", 78.7},
           {"vgg16_scratch", "VGG16, no BN, scratch", 67.6},
       },
       {"DSOD300 without BN drops from 77.7 to 71.5 (paper, for comparison)"}},
      {"C",
       "Downsampling in the backbone",
       "SSD300, ResNet-18, scratch, BN everywhere",
       {
           {"resnet18", "ResNet-18 (7x7/2 conv, 3x3/2 max-pool)", 73.1},
           {"resnet18_a", "ResNet-18-A (max-pool removed)", 75.3},
           {"resnet18_b", "ResNet-18-B (first conv stride 1)", 77.6},
           {"root_resnet18", "Root-ResNet-18 (three 3x3 convs)", 78.5},
       },
       {}},
      {"D",
       "Depth and head",
       "scratch, BN everywhere",
       {
           {"root_resnet18", "Root-ResNet-18 SSD300", 78.5},
           {"root_resnet34_ssd_extras", "Root-ResNet-34 SSD300, SSD-style extra layers",
            std::nullopt},
           {"scratchdet300", "Root-ResNet-34 SSD300, residual extras (ScratchDet300)", 80.4},
       },
       {}},
      {"E",
       "Final comparisons",
       "single-scale 300 input; VOC07 mAP (07+12 trainval), COCO test-dev AP",
       {
           {"scratchdet300_voc", "ScratchDet300, VOC07 mAP", 80.4},
           {"scratchdet300_coco", "ScratchDet300, COCO AP", 32.7},
       },
       {"DSOD300 (scratch): VOC07 77.7, COCO AP 29.3",
        "GRP-DSOD320 (scratch): VOC07 78.7, COCO AP 30.0",
        "SSD300 VGG16 (pretrained): VOC07 77.2, COCO AP 25.1",
        "RefineDet320 (pretrained): VOC07 80.0, COCO AP 29.4"}},
  };
  return *tables;
}

const PaperTable* FindPaperTable(const std::string& id) {
  for (const PaperTable& table : PaperTables())
    if (table.id == id) return &table;
  return nullptr;
}

const TableAGrid& TableALayout() {
  static const auto* grid = new TableAGrid{{"0.001", "0.01", "0.05"},
                                           {{"no", "no", "nobn"},
                                            {"no", "yes", "bn_head"},
                                            {"yes", "no", "bn_backbone"},
                                            {"yes", "yes", "bn_both"}}};
  return *grid;
}

const std::vector<Comparison>& PaperComparisons() {
  using R = Relation;
  static const auto* comparisons = new std::vector<Comparison>{
      {"1", "BN in head > no BN", {"A", "bn_head_lr0.001"}, R::kGreater, {"A", "nobn_lr0.001"}},
      {"2a",
       "larger lr helps with BN (backbone BN)",
       {"A", "bn_backbone_lr0.01"},
       R::kGreater,
       {"A", "bn_backbone_lr0.001"}},
      {"2b",
       "larger lr helps with BN (BN everywhere)",
       {"A", "bn_both_lr0.05"},
       R::kGreater,
       {"A", "bn_both_lr0.001"}},
      {"2c",
       "larger lr helps with BN (head BN)",
       {"A", "bn_head_lr0.01"},
       R::kGreater,
       {"A", "bn_head_lr0.001"}},
      {"3", "no max-pool > max-pool", {"C", "resnet18_a"}, R::kGreater, {"C", "resnet18"}},
      {"4", "stride 1 > stride 2", {"C", "resnet18_b"}, R::kGreater, {"C", "resnet18_a"}},
      {"5", "root block > 7x7 conv", {"C", "root_resnet18"}, R::kGreater, {"C", "resnet18_b"}},
      {"6",
       "Root-ResNet-34 > Root-ResNet-18",
       {"D", "scratchdet300"},
       R::kGreater,
       {"D", "root_resnet18"}},
      {"7",
       "scratch with BN >= pretrained",
       {"B", "vgg16_bn_scratch"},
       R::kGreaterOrEqual,
       {"B", "vgg16_bn_pretrained"}},
      {"8",
       "residual extras >= SSD extras",
       {"D", "scratchdet300"},
       R::kGreaterOrEqual,
       {"D", "root_resnet34_ssd_extras"}},
      {"9",
       "BN in backbone > no BN",
       {"A", "bn_backbone_lr0.001"},
       R::kGreater,
       {"A", "nobn_lr0.001"}},
  };
  return *comparisons;
}

const char* RelationSymbol(Relation relation) {
  return relation == Relation::kGreater ? ">" : ">=";
}

const std::vector<std::pair<std::string, double>>& PaperCocoMetrics() {
  static const auto* metrics = new std::vector<std::pair<std::string, double>>{
      {"AP", 32.7}, {"AP50", 52.0}, {"AP75", 34.9}, {"APs", 13.0}, {"APm", 35.6}, {"APl", 49.0}};
  return *metrics;
}

}  // namespace scratchdet::report
