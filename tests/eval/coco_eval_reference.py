#!/usr/bin/env python3
"""Independent numpy reimplementation of pycocotools' COCOeval for bounding boxes.

pycocotools is not installable here (Debian has no python3-pycocotools), so this re-derives
its algorithm (evaluate -> accumulate -> summarize) in a vectorised-per-image style, to check
scratchdet's C++ EvaluateCoco. Usage:
    coco_eval_reference.py INSTANCES.json RESULTS.json OUT.json
OUT: {"stats": [12 numbers]}.
"""
import json
import sys

import numpy as np

IOU_THRS = np.linspace(0.5, 0.95, 10)  # exactly pycocotools' thresholds (0.9 -> 0.8999...)
REC_THRS = np.linspace(0.0, 1.0, 101)
AREAS = [(0.0, 1e10), (0.0, 32.0 ** 2), (32.0 ** 2, 96.0 ** 2), (96.0 ** 2, 1e10)]
MAX_DETS = [1, 10, 100]


def iou_matrix(dets, gts):
    """[D, G] IoU of xywh boxes; crowd columns divide by the detection area."""
    if len(dets) == 0 or len(gts) == 0:
        return np.zeros((len(dets), len(gts)))
    d = np.array([x["bbox"] for x in dets], dtype=np.float64)
    g = np.array([x["bbox"] for x in gts], dtype=np.float64)
    crowd = np.array([bool(x.get("iscrowd", 0)) for x in gts])
    w = (np.minimum((d[:, 2] + d[:, 0])[:, None], (g[:, 2] + g[:, 0])[None, :]) -
         np.maximum(d[:, 0][:, None], g[:, 0][None, :]))
    h = (np.minimum((d[:, 3] + d[:, 1])[:, None], (g[:, 3] + g[:, 1])[None, :]) -
         np.maximum(d[:, 1][:, None], g[:, 1][None, :]))
    inter = w * h
    d_area = (d[:, 2] * d[:, 3])[:, None]
    g_area = (g[:, 2] * g[:, 3])[None, :]
    union = np.where(crowd[None, :], d_area, d_area + g_area - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        iou = inter / union
    return np.where((w > 0) & (h > 0), iou, 0.0)


def match_image(gts, dets, ious, area):
    """Greedy matching of one image/category in one area range (dets already sorted)."""
    lo, hi = area
    g_ignore = np.array([bool(g.get("iscrowd", 0)) or g["area"] < lo or g["area"] > hi
                         for g in gts], dtype=bool)
    g_crowd = np.array([bool(g.get("iscrowd", 0)) for g in gts], dtype=bool)
    order = np.argsort(g_ignore, kind="stable")
    g_ignore, g_crowd = g_ignore[order], g_crowd[order]
    ious = ious[:, order] if ious.size else ious
    T, D, G = len(IOU_THRS), len(dets), len(gts)
    d_matched = np.zeros((T, D), dtype=bool)
    d_ignore = np.zeros((T, D), dtype=bool)
    for t, thr in enumerate(IOU_THRS):
        g_taken = np.zeros(G, dtype=bool)
        for di in range(D):
            best, m = min(thr, 1 - 1e-10), -1
            for gi in range(G):
                if g_taken[gi] and not g_crowd[gi]:
                    continue
                if m > -1 and not g_ignore[m] and g_ignore[gi]:
                    break
                if ious[di, gi] < best:
                    continue
                best, m = ious[di, gi], gi
            if m >= 0:
                d_matched[t, di] = True
                d_ignore[t, di] = g_ignore[m]
                g_taken[m] = True
    d_area = np.array([d["bbox"][2] * d["bbox"][3] for d in dets], dtype=np.float64)
    outside = (d_area < lo) | (d_area > hi)
    d_ignore |= (~d_matched) & outside[None, :]
    return {"scores": np.array([d["score"] for d in dets], dtype=np.float64),
            "matched": d_matched, "ignore": d_ignore, "npig": int(np.sum(~g_ignore))}


def evaluate(instances, results):
    image_ids = sorted(im["id"] for im in instances["images"])
    cat_ids = sorted(c["id"] for c in instances["categories"])
    gts, dts = {}, {}
    for g in instances["annotations"]:
        gts.setdefault((g["image_id"], g["category_id"]), []).append(g)
    for d in results:
        dts.setdefault((d["image_id"], d["category_id"]), []).append(d)
    T, R, K, A, M = len(IOU_THRS), len(REC_THRS), len(cat_ids), len(AREAS), len(MAX_DETS)
    precision = -np.ones((T, R, K, A, M))
    recall = -np.ones((T, K, A, M))
    for k, cat in enumerate(cat_ids):
        per_area = [[] for _ in AREAS]
        for img in image_ids:
            g = gts.get((img, cat), [])
            d = dts.get((img, cat), [])
            if not g and not d:
                continue
            order = np.argsort([-x["score"] for x in d], kind="mergesort")
            d = [d[i] for i in order][:MAX_DETS[-1]]
            ious = iou_matrix(d, g)
            for a, area in enumerate(AREAS):
                per_area[a].append(match_image(g, d, ious, area))
        for a in range(A):
            evals = per_area[a]
            if not evals:
                continue
            npig = sum(e["npig"] for e in evals)
            if npig == 0:
                continue
            for m, max_det in enumerate(MAX_DETS):
                scores = np.concatenate([e["scores"][:max_det] for e in evals])
                order = np.argsort(-scores, kind="mergesort")
                matched = np.concatenate([e["matched"][:, :max_det] for e in evals], axis=1)[:, order]
                ignore = np.concatenate([e["ignore"][:, :max_det] for e in evals], axis=1)[:, order]
                tps = np.cumsum(matched & ~ignore, axis=1).astype(np.float64)
                fps = np.cumsum(~matched & ~ignore, axis=1).astype(np.float64)
                for t in range(T):
                    tp, fp = tps[t], fps[t]
                    nd = len(tp)
                    rc = tp / npig
                    pr = tp / (fp + tp + np.spacing(1))
                    recall[t, k, a, m] = rc[-1] if nd else 0.0
                    pr = np.maximum.accumulate(pr[::-1])[::-1] if nd else pr
                    idx = np.searchsorted(rc, REC_THRS, side="left")
                    q = np.where(idx < nd, pr[np.minimum(idx, max(nd - 1, 0))] if nd else 0.0, 0.0)
                    precision[t, :, k, a, m] = q

    def mean(values):
        values = values[values > -1]
        return float(np.mean(values)) if values.size else -1.0

    def ap(t=None, a=0, m=2):
        s = precision[:, :, :, a, m] if t is None else precision[t, :, :, a, m]
        return mean(s)

    def ar(a=0, m=2):
        return mean(recall[:, :, a, m])

    i50 = int(np.where(IOU_THRS == 0.5)[0][0])
    i75 = int(np.where(IOU_THRS == 0.75)[0][0])
    return [ap(), ap(t=i50), ap(t=i75), ap(a=1), ap(a=2), ap(a=3),
            ar(m=0), ar(m=1), ar(m=2), ar(a=1), ar(a=2), ar(a=3)]


def main():
    with open(sys.argv[1]) as f:
        instances = json.load(f)
    with open(sys.argv[2]) as f:
        results = json.load(f)
    with open(sys.argv[3], "w") as f:
        json.dump({"stats": evaluate(instances, results)}, f)


if __name__ == "__main__":
    main()
