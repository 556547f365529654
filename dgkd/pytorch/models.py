"""The architectures of dgkd/models/ in PyTorch, with the same state-dict names and shapes, so that a model
exported by `tsx dgkd/train.ts export --checkpoint C --out model.safetensors` loads with strict=True:

    import models                                  # this file (needs torch and numpy only)
    model = models.load_export("model.safetensors")  # builds the architecture named in the file, loads strictly
    model.eval()(x)                                # x: float32 [N, C, H, W], normalised as in training

and the other way, a model trained in PyTorch as a teacher for `train.ts --teacher-checkpoint FILE`:

    model = models.build("plain8")                 # … trained on inputs normalised with TAKD_NORMALISATION
    models.save_export(model, "plain8.safetensors")  # its state dict, architecture and normalisation

Normalisation in training is TAKD's per-channel mean/std (dgkd/data/augment.ts, TAKD_NORMALISATION).

    python3 dgkd/pytorch/models.py keys ARCH[:CLASSES] ...  the state-dict keys and shapes, as JSON (one line each)
    python3 dgkd/pytorch/models.py check FILE             load FILE strictly; when it also holds `input.x` and
                                                           `input.logits`, compare the logits (eval mode)

Definitions follow dgkd/models/*.ts: plain CNNs (TAKD's tables; conv with bias → BN → ReLU, 2×2 max-pools,
flatten in NCHW order, FC layers), CIFAR ResNets (BasicBlock, ReLU after the addition, 1×1 conv + BN shortcut),
WRN-d-k (pre-activation blocks, the shortcut sees the pre-activated input), VGG-BN (one FC classifier), and
RepDistiller's CIFAR students with its state-dict names: MobileNetV2 (`mobilenetv2`, `mobilenetv2-W`; T = 6,
ReLU), ShuffleNet V1 (`shufflenetv1`, 3 groups) and V2 (`shufflenetv2`, 1×), each pooling its last map globally.
"""

import json
import math
import re
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PLAIN_SPECS = {
    "c10": {
        2: "C16 P C16 P",
        3: "C16 C16 P C32 P",
        4: "C16 C16 P C32 C32 P",
        5: "C16 C16 P C32 C32 P C64 P",
        6: "C16 C16 P C32 C32 P C64 C64 P",
        7: "C16 C16 P C32 C32 P C64 C64 P C128 P",
        8: "C16 C16 P C32 C32 P C64 C64 P C128 C128 P F64",
        9: "C32 C32 P C64 C64 P C128 C128 P C256 P F128",
        10: "C32 C32 P C64 C64 P C128 C128 P C256 C256 C256 C256 P F128",
    },
    "c100": {
        2: "C32 P C32 P",
        3: "C32 C32 P C64 P",
        4: "C32 C32 P C64 C64 P",
        5: "C32 C32 P C64 C64 P C128",
        6: "C32 C32 P C64 C64 P C128 C128",
        7: "C32 C32 P C64 C64 P C128 C128 P C256",
        8: "C32 C32 P C64 C64 P C128 C128 P C256 C256 P F64",
        9: "C32 C32 P C64 C64 P C128 C128 P C256 P F256",
        10: "C32 C32 P C64 C64 P C128 C128 P C256 C256 C256 C256 P F512",
    },
}

VGG_CFGS = {
    8: [64, "M", 128, "M", 256, "M", 512, "M", 512, "M"],
    11: [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    13: [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    16: [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    19: [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512, 512, 512, "M"],
}


class PlainCNN(nn.Module):
    def __init__(self, depth, num_classes=10, in_channels=3, in_size=32):
        super().__init__()
        self.spec = PLAIN_SPECS["c100" if num_classes > 10 else "c10"][depth].split()
        channels, size, hidden, n = in_channels, in_size, [], 0
        for tok in self.spec:
            if tok == "P":
                size //= 2
            elif tok[0] == "C":
                n += 1
                setattr(self, f"conv{n}", nn.Conv2d(channels, int(tok[1:]), 3, padding=1, bias=True))
                setattr(self, f"bn{n}", nn.BatchNorm2d(int(tok[1:])))
                channels = int(tok[1:])
            else:
                hidden.append(int(tok[1:]))
        features = channels * size * size
        self.n_fc = len(hidden) + 1
        for i, width in enumerate(hidden + [num_classes]):
            setattr(self, f"fc{i + 1}", nn.Linear(features, width))
            features = width

    def forward(self, x):
        n = 0
        for tok in self.spec:
            if tok == "P":
                x = F.max_pool2d(x, 2)
            elif tok[0] == "C":
                n += 1
                x = F.relu(getattr(self, f"bn{n}")(getattr(self, f"conv{n}")(x)))
        x = torch.flatten(x, 1)
        for i in range(1, self.n_fc + 1):
            x = getattr(self, f"fc{i}")(x)
            if i < self.n_fc:
                x = F.relu(x)
        return x


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, 0, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(out + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, depth, num_classes=10, in_channels=3):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        cin = 16
        for i, (cout, stride) in enumerate(((16, 1), (32, 2), (64, 2))):
            blocks = []
            for b in range(n):
                blocks.append(BasicBlock(cin, cout, stride if b == 0 else 1))
                cin = cout
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class WideBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.convShortcut = nn.Conv2d(cin, cout, 1, stride, 0, bias=False) if cin != cout or stride != 1 else None

    def forward(self, x):
        a = F.relu(self.bn1(x))
        h = self.conv2(F.relu(self.bn2(self.conv1(a))))
        return h + (self.convShortcut(a) if self.convShortcut is not None else x)


class WideGroup(nn.Module):
    def __init__(self, cin, cout, n, stride):
        super().__init__()
        self.layer = nn.Sequential(*[WideBlock(cin if i == 0 else cout, cout, stride if i == 0 else 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth, widen, num_classes=10, in_channels=3):
        super().__init__()
        n = (depth - 4) // 6
        w = [16 * widen, 32 * widen, 64 * widen]
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.block1 = WideGroup(16, w[0], n, 1)
        self.block2 = WideGroup(w[0], w[1], n, 2)
        self.block3 = WideGroup(w[1], w[2], n, 2)
        self.bn1 = nn.BatchNorm2d(w[2])
        self.fc = nn.Linear(w[2], num_classes)

    def forward(self, x):
        x = self.block3(self.block2(self.block1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(F.relu(self.bn1(x)), 1), 1))


class VGG(nn.Module):
    def __init__(self, depth, num_classes=10, in_channels=3, in_size=32):
        super().__init__()
        layers, channels, size = [], in_channels, in_size
        for v in VGG_CFGS[depth]:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                size //= 2
            else:
                layers += [nn.Conv2d(channels, v, 3, padding=1, bias=True), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
                channels = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(channels * size * size, num_classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


# ---- RepDistiller's CIFAR students (dgkd/models/mobilenetv2.ts, shufflenetv1.ts, shufflenetv2.ts) ----------


def conv_bn_relu(cin, cout, k, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expansion):
        super().__init__()
        hidden = cin * expansion
        self.residual = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hidden, 1, 1, 0, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, cout, 1, 1, 0, bias=False), nn.BatchNorm2d(cout),
        )

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


MOBILENETV2_STAGES = [(1, 16, 1, 1), ("T", 24, 2, 1), ("T", 32, 3, 2), ("T", 64, 4, 2), ("T", 96, 3, 1), ("T", 160, 3, 2), ("T", 320, 1, 1)]


class MobileNetV2(nn.Module):
    def __init__(self, width=1.0, num_classes=10, in_channels=3, expansion=6):
        super().__init__()
        channels = int(32 * width)
        self.conv1 = conv_bn_relu(in_channels, channels, 3, 2)
        self.blocks = nn.ModuleList()
        for t, c, n, s in MOBILENETV2_STAGES:
            out, layers = int(c * width), []
            for b in range(n):
                layers.append(InvertedResidual(channels, out, s if b == 0 else 1, expansion if t == "T" else t))
                channels = out
            self.blocks.append(nn.Sequential(*layers))
        last = int(1280 * width) if width > 1.0 else 1280
        self.conv2 = conv_bn_relu(channels, last, 1, 1)
        self.classifier = nn.Sequential(nn.Linear(last, num_classes))

    def forward(self, x):
        x = self.conv1(x)
        for stage in self.blocks:
            x = stage(x)
        return self.classifier(torch.flatten(F.adaptive_avg_pool2d(self.conv2(x), 1), 1))


def channel_shuffle(x, groups):
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


class ShuffleV1Block(nn.Module):
    def __init__(self, cin, cout, stride, groups):
        super().__init__()
        mid = cout // 4
        self.stride, self.g = stride, 1 if cin == 24 else groups
        self.conv1 = nn.Conv2d(cin, mid, 1, groups=self.g, bias=False)
        self.bn1 = nn.BatchNorm2d(mid)
        self.conv2 = nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(mid, cout, 1, groups=groups, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)

    def forward(self, x):
        h = channel_shuffle(F.relu(self.bn1(self.conv1(x))), self.g)
        h = self.bn3(self.conv3(F.relu(self.bn2(self.conv2(h)))))
        if self.stride == 2:
            return F.relu(torch.cat([h, F.avg_pool2d(x, 3, 2, 1)], 1))  # count_include_pad, as nn.AvgPool2d
        return F.relu(h + x)


class ShuffleNetV1(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, out_planes=(240, 480, 960), blocks=(4, 8, 4), groups=3):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        cin = 24
        for i, (planes, n) in enumerate(zip(out_planes, blocks)):
            layers = []
            for b in range(n):
                layers.append(ShuffleV1Block(cin, planes - cin if b == 0 else planes, 2 if b == 0 else 1, groups))
                cin = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*layers))
        self.linear = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class ShuffleV2Down(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        mid = cout // 2
        self.conv1 = nn.Conv2d(cin, cin, 3, 2, 1, groups=cin, bias=False)
        self.bn1 = nn.BatchNorm2d(cin)
        self.conv2 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(mid)
        self.conv3 = nn.Conv2d(cin, mid, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(mid)
        self.conv4 = nn.Conv2d(mid, mid, 3, 2, 1, groups=mid, bias=False)
        self.bn4 = nn.BatchNorm2d(mid)
        self.conv5 = nn.Conv2d(mid, mid, 1, bias=False)
        self.bn5 = nn.BatchNorm2d(mid)

    def forward(self, x):
        left = F.relu(self.bn2(self.conv2(self.bn1(self.conv1(x)))))
        right = F.relu(self.bn5(self.conv5(self.bn4(self.conv4(F.relu(self.bn3(self.conv3(x))))))))
        return channel_shuffle(torch.cat([left, right], 1), 2)


class ShuffleV2Basic(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.split = int(channels * 0.5)
        c = self.split
        self.conv1 = nn.Conv2d(c, c, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, 1, 1, groups=c, bias=False)
        self.bn2 = nn.BatchNorm2d(c)
        self.conv3 = nn.Conv2d(c, c, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c)

    def forward(self, x):
        kept, rest = x[:, : self.split], x[:, self.split :]
        h = F.relu(self.bn3(self.conv3(self.bn2(self.conv2(F.relu(self.bn1(self.conv1(rest))))))))
        return channel_shuffle(torch.cat([kept, h], 1), 2)


class ShuffleNetV2(nn.Module):
    def __init__(self, num_classes=10, in_channels=3, out_channels=(116, 232, 464), blocks=(3, 7, 3), last=1024):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 24, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(24)
        cin = 24
        for i, (out, n) in enumerate(zip(out_channels, blocks)):
            setattr(self, f"layer{i + 1}", nn.Sequential(ShuffleV2Down(cin, out), *[ShuffleV2Basic(out) for _ in range(n)]))
            cin = out
        self.conv2 = nn.Conv2d(cin, last, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(last)
        self.linear = nn.Linear(last, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(F.relu(self.bn1(self.conv1(x))))))
        x = F.relu(self.bn2(self.conv2(x)))
        return self.linear(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(arch, num_classes=10, in_channels=3, in_size=32):
    """A model by the names `models` lists: plain2…plain10, resnet8…, wrn-D-K, vgg8…vgg19, mobilenetv2[-W],
    shufflenetv1, shufflenetv2."""
    m = re.fullmatch(r"(plain|resnet|vgg)(\d+)|wrn-(\d+)-(\d+)|mobilenetv2(?:-(\d*\.?\d+))?|shufflenetv([12])", arch)
    if not m:
        raise ValueError(f"unknown architecture {arch!r}")
    if arch.startswith("mobilenetv2"):
        model = MobileNetV2(float(m.group(5) or 1), num_classes, in_channels)
    elif m.group(6):
        model = (ShuffleNetV1 if m.group(6) == "1" else ShuffleNetV2)(num_classes, in_channels)
    elif m.group(1) == "plain":
        model = PlainCNN(int(m.group(2)), num_classes, in_channels, in_size)
    elif m.group(1) == "resnet":
        model = ResNet(int(m.group(2)), num_classes, in_channels)
    elif m.group(1) == "vgg":
        model = VGG(int(m.group(2)), num_classes, in_channels, in_size)
    else:
        model = WideResNet(int(m.group(3)), int(m.group(4)), num_classes, in_channels)
    model.arch, model.num_classes = arch, num_classes  # what save_export writes
    return model


# The per-channel input normalisation of the TAKD/DGKD code, which the trainer uses (dgkd/data/augment.ts).
TAKD_NORMALISATION = {"mean": [0.507, 0.487, 0.441], "std": [0.267, 0.256, 0.276]}


DTYPES = {"F32": np.float32, "F64": np.float64, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def read_safetensors(path):
    """(tensors as numpy arrays, metadata): the format is an 8-byte header length, a JSON header, raw data."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n :]
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]]).reshape(e["shape"]).copy()
    return tensors, meta


NUMPY_DTYPES = {np.dtype(v): k for k, v in DTYPES.items()}


def write_safetensors(path, tensors, meta):
    """numpy arrays (by name) and string metadata as a safetensors file."""
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name, a in tensors.items():
        a = np.ascontiguousarray(a)
        blob = a.tobytes()
        header[name] = {"dtype": NUMPY_DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def save_export(model, path, arch=None, normalisation=TAKD_NORMALISATION):
    """A model built by build() (and trained on inputs normalised with `normalisation`) as a file that
    `train.ts --teacher-checkpoint` and `--assistant-checkpoints` accept: the state dict, the architecture's
    name, the number of classes and the normalisation."""
    arch = arch or getattr(model, "arch", None)
    if arch is None:
        raise ValueError("save_export: give arch= (the model was not made by build())")
    state = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    classes = next(v.shape[0] for k, v in reversed(list(state.items())) if k.endswith(".weight") and v.ndim == 2)
    meta = {"format": "pytorch-state-dict/1", "arch": arch, "numClasses": str(classes), "normalisation": json.dumps(normalisation)}
    write_safetensors(path, state, meta)


def load_export(path):
    tensors, meta = read_safetensors(path)
    arch, num_classes = meta["arch"], int(meta["numClasses"])
    state = {k: torch.from_numpy(v) for k, v in tensors.items() if not k.startswith("input.")}
    # The first and last convolutions by name (a file's tensors are in no particular order).
    convs = {k: v for k, v in state.items() if v.dim() == 4 and re.fullmatch(r"conv\d+\.weight|features\.\d+\.weight|conv1\.0\.weight", k)}
    numbered = sorted(convs, key=lambda k: int(re.search(r"\d+", k).group()))
    first, last = convs[numbered[0]], convs[numbered[-1]]
    size = 32  # ResNets and WRNs pool globally: any input size works
    if arch.startswith("plain") or arch.startswith("vgg"):
        spec = (PLAIN_SPECS["c100" if num_classes > 10 else "c10"][int(arch[5:])].split() if arch.startswith("plain")
                else VGG_CFGS[int(arch[3:])])
        pools = sum(1 for t in spec if t in ("P", "M"))
        # Their first FC layer is sized by the input: recover the input's side from it.
        fc = state["fc1.weight" if arch.startswith("plain") else "classifier.weight"]
        size = math.isqrt(fc.shape[1] // last.shape[0]) * 2**pools
    model = build(arch, num_classes, first.shape[1], size)
    model.load_state_dict(state, strict=True)
    return model


def main(argv):
    if len(argv) >= 2 and argv[0] == "keys":
        lines = []
        for spec in argv[1:]:
            arch, _, classes = spec.partition(":")
            state = build(arch, int(classes or 10)).state_dict()
            lines.append(f"{json.dumps(spec)}: {json.dumps([[k, list(v.shape)] for k, v in state.items()])}")
        print("{\n" + ",\n".join(lines) + "\n}")
        return 0
    if len(argv) == 2 and argv[0] == "check":
        model = load_export(argv[1]).eval()
        tensors, meta = read_safetensors(argv[1])
        print(f"{argv[1]}: {meta['arch']} loaded with strict=True")
        if "input.x" in tensors:
            with torch.no_grad():
                logits = model(torch.from_numpy(tensors["input.x"])).numpy()
            diff = float(np.abs(logits - tensors["input.logits"]).max())
            scale = float(np.abs(tensors["input.logits"]).max())
            print(f"  logits: max |PyTorch − ours| = {diff:.3g} (largest logit {scale:.3g})")
            return 0 if diff <= 1e-3 * max(1.0, scale) else 1
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
