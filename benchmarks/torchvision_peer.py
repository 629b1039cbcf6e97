"""torchvision's ssd300_vgg16 timed as //benchmarks:peer_benchmark times ours (issue 12).

Usage: torchvision_peer.py THREADS TRAIN_STEPS INFER_STEPS
Prints one JSON object: seconds per image for a training step (batch 4: model(images, targets),
the summed losses' backward, an SGD step) and for inference (batch 1: model.eval()(images),
which includes torchvision's resize, normalisation and post-processing), medians over the
steps after two warm-up steps. Run by peer_benchmark with the same allocator setting.
"""
import json
import statistics
import sys
import time

import torch
import torchvision


def main(threads, train_steps, infer_steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = torchvision.models.detection.ssd300_vgg16(weights=None, weights_backbone=None,
                                                      num_classes=21)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    images = [torch.rand(3, 300, 300) for _ in range(4)]
    # The same two boxes per image as ours (classes 1 and 3), in pixels.
    boxes = torch.tensor([[30.0, 30.0, 120.0, 150.0], [150.0, 90.0, 270.0, 240.0]])
    targets = [{"boxes": boxes.clone(), "labels": torch.tensor([1, 3])} for _ in images]
    model.train()
    train = []
    for step in range(2 + train_steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        losses = model(images, targets)
        sum(losses.values()).backward()
        opt.step()
        if step >= 2:
            train.append((time.perf_counter() - t0) / len(images))
    model.eval()
    infer = []
    with torch.no_grad():
        for step in range(2 + infer_steps):
            t0 = time.perf_counter()
            model(images[:1])
            if step >= 2:
                infer.append(time.perf_counter() - t0)
    print(json.dumps({"train_s_per_image": statistics.median(train),
                      "infer_s_per_image": statistics.median(infer),
                      "torch": torch.__version__, "torchvision": torchvision.__version__}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
