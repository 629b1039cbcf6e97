#!/usr/bin/env python3
"""Independent reference for scratchdet's VOC evaluation, numpy only.

Written from the semantics in shared/docs/paper.md ("VOC evaluation semantics"), in the
array style of the devkit's Python port rather than scratchdet's C++: detections sorted with a
stable argsort, per-detection tp/fp flags (a match to a difficult ground truth leaves both 0),
cumulative sums, precision = tp / max(tp + fp, eps), then 11-point or area AP.

Usage: voc_eval_reference.py IN.json OUT.json
IN:  {"trials": [{"classes": [...], "gts": [[image, cls, x1, y1, x2, y2, difficult], ...],
                  "dets": [[image, cls, score, x1, y1, x2, y2], ...]}],
      "configs": [{"metric": "voc07"|"area", "mode": "devkit"|"strict", "plus_one": bool,
                   "iou": float}]}
OUT: {"results": [[{"ap": [ap or null per class], "mAP": m or null} per config] per trial]}
"""
import json
import sys

import numpy as np


def ap_11_point(rec, prec):
    ap = 0.0
    # k / 10 exactly (np.arange(0, 1.1, 0.1) would give 0.30000000000000004 for k = 3).
    for t in np.arange(11) / 10.0:
        reached = rec >= t
        ap += (np.max(prec[reached]) if np.any(reached) else 0.0) / 11.0
    return ap


def ap_area(rec, prec):
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def overlaps(box, gt_boxes, one):
    ix1 = np.maximum(gt_boxes[:, 0], box[0])
    iy1 = np.maximum(gt_boxes[:, 1], box[1])
    ix2 = np.minimum(gt_boxes[:, 2], box[2])
    iy2 = np.minimum(gt_boxes[:, 3], box[3])
    iw = np.maximum(ix2 - ix1 + one, 0.0)
    ih = np.maximum(iy2 - iy1 + one, 0.0)
    inter = iw * ih
    union = ((box[2] - box[0] + one) * (box[3] - box[1] + one) +
             (gt_boxes[:, 2] - gt_boxes[:, 0] + one) * (gt_boxes[:, 3] - gt_boxes[:, 1] + one) -
             inter)
    return inter / union


def class_ap(gts, dets, config):
    """gts: {image: (boxes [G, 4], difficult [G] bool)}; dets: [(image, score, box)]."""
    npos = sum(int(np.sum(~difficult)) for _, difficult in gts.values())
    if npos == 0:
        return None
    one = 1.0 if config["plus_one"] else 0.0
    order = np.argsort(-np.array([d[1] for d in dets], dtype=np.float64), kind="stable")
    taken = {image: np.zeros(len(difficult), dtype=bool) for image, (_, difficult) in gts.items()}
    tp = np.zeros(len(dets))
    fp = np.zeros(len(dets))
    for rank, index in enumerate(order):
        image, _, box = dets[index]
        best, best_gt = -np.inf, -1
        if image in gts and len(gts[image][1]) > 0:
            ious = overlaps(np.array(box, dtype=np.float64), gts[image][0], one)
            best, best_gt = np.max(ious), int(np.argmax(ious))
        passes = best >= config["iou"] if config["mode"] == "devkit" else best > config["iou"]
        if not passes:
            fp[rank] = 1
        elif not gts[image][1][best_gt]:
            if taken[image][best_gt]:
                fp[rank] = 1
            else:
                tp[rank] = 1
                taken[image][best_gt] = True
    tp = np.cumsum(tp)
    fp = np.cumsum(fp)
    rec = tp / float(npos)
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return ap_11_point(rec, prec) if config["metric"] == "voc07" else ap_area(rec, prec)


def evaluate(trial, config):
    classes = trial["classes"]
    aps = []
    for c in range(len(classes)):
        gts = {}
        for image, cls, x1, y1, x2, y2, difficult in trial["gts"]:
            if cls == c:
                boxes, flags = gts.setdefault(image, ([], []))
                boxes.append([x1, y1, x2, y2])
                flags.append(bool(difficult))
        gts = {image: (np.array(b, dtype=np.float64).reshape(-1, 4), np.array(f, dtype=bool))
               for image, (b, f) in gts.items()}
        dets = [(image, score, [x1, y1, x2, y2])
                for image, cls, score, x1, y1, x2, y2 in trial["dets"] if cls == c]
        aps.append(class_ap(gts, dets, config))
    defined = [ap for ap in aps if ap is not None]
    return {"ap": aps, "mAP": float(np.mean(defined)) if defined else None}


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    results = [[evaluate(trial, config) for config in spec["configs"]] for trial in spec["trials"]]
    with open(sys.argv[2], "w") as f:
        json.dump({"results": results}, f)


if __name__ == "__main__":
    main()
