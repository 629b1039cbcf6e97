"""Converts torchvision ImageNet weights into the file scratchdet's importer reads.

    /usr/bin/python3 scratchdet/model/export_torchvision_weights.py IN.pth OUT.pt

IN.pth: a torchvision checkpoint (e.g. resnet18-f37072fd.pth, vgg16_bn-6c64b313.pth), i.e. an
OrderedDict state dict. OUT.pt: the same tensors as a plain dict, which LibTorch 1.13's
torch::pickle_load reads (scratchdet/model/torchvision_import.h).
"""
import sys

import torch


def main(source, target):
    state = torch.load(source, map_location="cpu")
    if not isinstance(state, dict):
        sys.exit(f"{source}: expected a state dict, got {type(state).__name__}")
    torch.save({k: v.contiguous() for k, v in state.items()}, target)
    print(f"wrote {target}: {len(state)} tensors")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
