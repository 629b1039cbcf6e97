"""Writes DIR/trainval.json and DIR/test.json for tools/gpu_check/gpu_shapes_train.cc from a
shapes dataset in VOC layout (`scratchdet make-shapes`): the GPU machine has no XML parser
library, so the check reads the boxes from JSON. Boxes become continuous pixels with the
library's rule (scratchdet/data/pixel_convention.h): x1 = xmin - 1, y1 = ymin - 1, x2 = xmax,
y2 = ymax. Labels are 1-based in the order of the COCO file's categories.

    python3 tools/gpu_check/shapes_index.py DIR
"""
import json
import sys
import xml.etree.ElementTree as ET


def main(root):
    with open(f"{root}/annotations/instances_test.json") as f:
        categories = sorted(json.load(f)["categories"], key=lambda c: c["id"])
    classes = [c["name"] for c in categories]
    for split in ("trainval", "test"):
        with open(f"{root}/ImageSets/Main/{split}.txt") as f:
            ids = [line.strip() for line in f if line.strip()]
        images = []
        for image_id in ids:
            tree = ET.parse(f"{root}/Annotations/{image_id}.xml").getroot()
            boxes, labels, difficult = [], [], []
            for obj in tree.iter("object"):
                b = obj.find("bndbox")
                xmin, ymin, xmax, ymax = (float(b.find(k).text) for k in ("xmin", "ymin", "xmax", "ymax"))
                boxes.append([xmin - 1, ymin - 1, xmax, ymax])
                labels.append(classes.index(obj.find("name").text) + 1)
                difficult.append(obj.find("difficult").text.strip() == "1")
            images.append({"file": f"JPEGImages/{tree.find('filename').text}", "boxes": boxes,
                           "labels": labels, "difficult": difficult})
        with open(f"{root}/{split}.json", "w") as f:
            json.dump({"classes": classes, "images": images}, f)
        print(f"shapes_index: {root}/{split}.json: {len(images)} images, "
              f"{sum(len(i['boxes']) for i in images)} boxes")


if __name__ == "__main__":
    main(sys.argv[1])
