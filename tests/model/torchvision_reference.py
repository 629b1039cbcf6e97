"""Reference feature maps from torchvision for tests/model/torchvision_import_test.cc.

Usage: /usr/bin/python3 torchvision_reference.py OUT_DIR

Writes, for vgg16_bn, vgg16, resnet18 and resnet34 with random (seeded) weights and random BN
statistics: <name>_state.pt (the state dict saved as a plain dict, see
scratchdet/model/torchvision_import.h), <name>_input.pt and the
reference maps (<name>_conv4_3.pt, after SSD's L2Norm for vgg16; <name>_layer3.pt, <name>_layer4.pt), plus
<name>_macs.txt (conv MACs of the trunk for one image, counted with forward hooks).

The torchvision models are changed only where scratchdet's detection trunks differ on purpose
(docs/models.md): pool3 of VGG in ceil mode (SSD), and stride 1 in ResNet's layer3 (the
standard stride-4 stem keeps stage3 at stride 8). Weights are untouched, so the comparison is
of identical networks.
"""
import sys

import torch
import torchvision


def randomise_batch_norm(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
        if isinstance(m, torch.nn.Conv2d) and m.bias is not None:
            m.bias.data.uniform_(-0.2, 0.2)


def count_macs(model, x):
    total = [0]

    def hook(module, inputs, output):
        total[0] += output.numel() * module.weight[0].numel()

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, torch.nn.Conv2d)]
    model(x)
    for h in handles:
        h.remove()
    return total[0]


def save(out, name, tensor):
    torch.save(tensor.detach().contiguous().clone(), f"{out}/{name}.pt")


def main(out):
    torch.manual_seed(0)
    with torch.no_grad():
        # torchvision.models.vgg16_bn().features without building the 120M-weight classifier.
        vgg = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"],
                                                 batch_norm=True)
        randomise_batch_norm(vgg)
        vgg[23].ceil_mode = True  # pool3, as SSD
        vgg.eval()
        x = torch.randn(1, 3, 100, 100)
        save(out, "vgg16_bn_input", x)
        save(out, "vgg16_bn_conv4_3", vgg[:33](x))  # conv4_3 -> BN -> ReLU
        torch.save(dict(vgg.state_dict()), f"{out}/vgg16_bn_state.pt")

        # Plain VGG16: SSD puts L2Norm (scale 20) on conv4_3, so the reference does too.
        vgg = torchvision.models.vgg.make_layers(torchvision.models.vgg.cfgs["D"])
        randomise_batch_norm(vgg)
        vgg[16].ceil_mode = True  # pool3
        vgg.eval()
        conv4_3 = vgg[:23](x)  # conv4_3 -> ReLU
        norm = conv4_3.pow(2).sum(1, keepdim=True).sqrt() + 1e-10
        save(out, "vgg16_input", x)
        save(out, "vgg16_conv4_3", conv4_3 / norm * 20.0)
        torch.save(dict(vgg.state_dict()), f"{out}/vgg16_state.pt")
        # As Python's torch.save(model.state_dict()) writes it: an OrderedDict with _metadata,
        # which LibTorch 1.13's pickle_load cannot read (the importer must say what to do).
        torch.save(torchvision.models.vgg.make_layers([8]).state_dict(), f"{out}/ordered.pt")

        for name in ("resnet18", "resnet34"):
            net = getattr(torchvision.models, name)()
            randomise_batch_norm(net)
            net.layer3[0].conv1.stride = (1, 1)
            net.layer3[0].downsample[0].stride = (1, 1)
            net.eval()
            x = torch.randn(1, 3, 96, 96)
            stem = torch.nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool, net.layer1,
                                       net.layer2)
            layer3 = net.layer3(stem(x))
            layer4 = net.layer4(layer3)
            save(out, f"{name}_input", x)
            save(out, f"{name}_layer3", layer3)
            save(out, f"{name}_layer4", layer4)
            torch.save(dict(net.state_dict()), f"{out}/{name}_state.pt")
            trunk = torch.nn.Sequential(stem, net.layer3, net.layer4)
            with open(f"{out}/{name}_macs.txt", "w") as f:
                f.write(str(count_macs(trunk, torch.zeros(1, 3, 300, 300))))


if __name__ == "__main__":
    main(sys.argv[1])
