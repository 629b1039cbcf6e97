# Independent reference trainer: torchvision's SSD (its matcher, MultiBox loss with 3:1 hard
# negatives, box coder and post-processing) around a Root-ResNet-34-like backbone at width 0.25
# with BN, trained with the mini recipe (batch 16, SGD 0.9 / 5e-4, warmup from lr/3, x0.1 at
# 70 % and 90 %, 128 px) on a VOC-layout dataset. It answers "does scratchdet learn as fast as an
# independent implementation?" (README, "Status of mini"). It writes devkit detection files
# for `scratchdet voc-eval`.
#
#   /usr/bin/python3 tools/reference_ssd.py DATA_ROOT OUT_DIR ITERATIONS [LR]
#   bazel run //:scratchdet -- voc-eval --annotations DATA_ROOT/Annotations \
#       --imageset DATA_ROOT/ImageSets/Main/test.txt --classes DATA_ROOT/classes.txt \
#       --detections 'OUT_DIR/comp4_det_test_{cls}.txt'
import sys, os, math, random, time, xml.etree.ElementTree as ET
import numpy as np, torch, torch.nn as nn
from PIL import Image
from torchvision.models.detection.ssd import SSD, SSDHead
from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
from torchvision.models.resnet import BasicBlock
torch.set_num_threads(2); torch.manual_seed(0); random.seed(0)
root, out, iters = sys.argv[1], sys.argv[2], int(sys.argv[3]); lr0 = float(sys.argv[4]) if len(sys.argv) > 4 else 0.05
classes = [l.strip() for l in open(root + '/classes.txt') if l.strip()]
def load(split):
    ids = [l.strip() for l in open(f'{root}/ImageSets/Main/{split}.txt') if l.strip()]
    items = []
    for i in ids:
        t = ET.parse(f'{root}/Annotations/{i}.xml'); b, l = [], []
        for o in t.findall('object'):
            bb = o.find('bndbox'); x1, y1, x2, y2 = [float(bb.find(k).text) for k in ('xmin', 'ymin', 'xmax', 'ymax')]
            b.append([x1 - 1, y1 - 1, x2, y2]); l.append(classes.index(o.find('name').text) + 1)
        img = torch.from_numpy(np.array(Image.open(f'{root}/JPEGImages/{i}.jpg').convert('RGB'))).permute(2, 0, 1).float() / 255
        items.append((i, img, torch.tensor(b), torch.tensor(l)))
    return items
train, test = load('trainval'), load('test')
def bn_conv(i, o, s=1): return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))
def stage(i, o, n, s):
    down = None if (s == 1 and i == o) else nn.Sequential(nn.Conv2d(i, o, 1, s, bias=False), nn.BatchNorm2d(o))
    return nn.Sequential(BasicBlock(i, o, s, down), *[BasicBlock(o, o) for _ in range(n - 1)])
class Backbone(nn.Module):
    def __init__(s, w=16):
        super().__init__()
        s.stem = nn.Sequential(bn_conv(3, w), bn_conv(w, w), bn_conv(w, w), nn.MaxPool2d(2, 2, ceil_mode=True))
        s.l1, s.l2, s.l3, s.l4 = stage(w, w, 3, 1), stage(w, 2 * w, 4, 2), stage(2 * w, 4 * w, 6, 2), stage(4 * w, 8 * w, 3, 2)
        e = 2 * w
        s.extras = nn.ModuleList([stage(8 * w, e, 1, 2), stage(e, e, 1, 2), stage(e, e, 1, 1), stage(e, e, 1, 1)])
    def forward(s, x):
        x = s.l2(s.l1(s.stem(x))); a = s.l3(x); b = s.l4(a); outs = [a, b]; y = b
        for m in s.extras: y = m(y); outs.append(y)
        return {str(k): v for k, v in enumerate(outs)}
bb = Backbone(); chans = [64, 128, 32, 32, 32, 32]
anchors = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]], scales=[0.1, 0.2, 0.37, 0.54, 0.71, 0.88, 1.05])
model = SSD(bb, anchors, (128, 128), len(classes) + 1, image_mean=[0.41, 0.46, 0.48], image_std=[1 / 255.] * 3,
            head=SSDHead(chans, anchors.num_anchors_per_location(), len(classes) + 1))
opt = torch.optim.SGD(model.parameters(), lr=lr0, momentum=0.9, weight_decay=5e-4)
steps = [int(iters * 0.7), int(iters * 0.9)]
model.train(); t0 = time.time(); order = []
for it in range(iters):
    lr = lr0 * (1 / 3 + (2 / 3) * it / 50 if it < 50 else 1) * (0.1 ** sum(it >= s for s in steps))
    for g in opt.param_groups: g['lr'] = lr
    if len(order) < 16: order += random.sample(range(len(train)), len(train))
    batch = [train[order.pop()] for _ in range(16)]
    imgs = [b[1] for b in batch]; tg = [{'boxes': b[2], 'labels': b[3]} for b in batch]
    for k in range(16):  # horizontal flip, p = 0.5 (the only augmentation)
        if random.random() < 0.5:
            imgs[k] = imgs[k].flip(-1); W = imgs[k].shape[-1]; bx = tg[k]['boxes'].clone()
            bx[:, [0, 2]] = W - tg[k]['boxes'][:, [2, 0]]; tg[k] = {'boxes': bx, 'labels': tg[k]['labels']}
    losses = model(imgs, tg); loss = losses['bbox_regression'] + losses['classification']
    opt.zero_grad(); loss.backward(); opt.step()
    if it % 20 == 0 or it == iters - 1:
        print(f"iter {it + 1} loc {losses['bbox_regression'].item():.3f} conf {losses['classification'].item():.3f} lr {lr:.3g} {(it + 1) * 16 / (time.time() - t0):.1f} img/s", flush=True)
model.eval(); os.makedirs(out, exist_ok=True)
files = {c: open(f'{out}/comp4_det_test_{c}.txt', 'w') for c in classes}
with torch.no_grad():
    for k in range(0, len(test), 16):
        chunk = test[k:k + 16]
        for (i, _, _, _), d in zip(chunk, model([c[1] for c in chunk])):
            for b, s, l in zip(d['boxes'].tolist(), d['scores'].tolist(), d['labels'].tolist()):
                # continuous -> devkit 1-based inclusive; a sub-pixel box stays non-inverted
                x1, y1 = b[0] + 1, b[1] + 1
                files[classes[l - 1]].write(f'{i} {s:.6f} {x1:.2f} {y1:.2f} {max(b[2], x1):.2f} {max(b[3], y1):.2f}\n')
for f in files.values(): f.close()
print('done', time.time() - t0)
