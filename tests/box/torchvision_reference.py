"""Reference IoU and NMS from torchvision for tests/box/torchvision_crosscheck_test.cc.

Usage: torchvision_reference.py DIR
Reads DIR/a.txt, DIR/b.txt (one box x1 y1 x2 y2 per line) and DIR/scores.txt (one score per
line, one per box of a.txt); writes DIR/iou.txt (box_iou(a, b), one row per line) and
DIR/keep_<t>.txt (torchvision.ops.nms(a, scores, t) kept indices) for t in 0.3, 0.45, 0.7.
"""
import os
import sys

import numpy as np
import torch
import torchvision


def main(directory):
    def load(name, columns):
        values = np.loadtxt(os.path.join(directory, name), dtype=np.float32, ndmin=2)
        return torch.from_numpy(values.reshape(-1, columns))

    a = load("a.txt", 4)
    b = load("b.txt", 4)
    scores = load("scores.txt", 1).reshape(-1)
    np.savetxt(os.path.join(directory, "iou.txt"), torchvision.ops.box_iou(a, b).numpy(),
               fmt="%.9g")
    for threshold in ("0.3", "0.45", "0.7"):
        keep = torchvision.ops.nms(a, scores, float(threshold)).numpy()
        np.savetxt(os.path.join(directory, f"keep_{threshold}.txt"), keep, fmt="%d")


if __name__ == "__main__":
    main(sys.argv[1])
