"""PyTorch's side of test/pytorch-parity.test.ts: the same training steps and the same losses, computed by PyTorch,
so that the test can compare them with ours step for step. Needs torch and numpy only (Debian: python3-torch,
python3-numpy; scripts/setup-torch.sh installs them). Files are safetensors; metadata values are strings.

    python3 dgkd/pytorch/parity.py train IN OUT [IN OUT ...]
        IN: a model export (the state dict as `dgkd/train/export.ts` writes it; metadata arch, numClasses), the
        batches `input.batch.<i>.x` (float32 [B, C, H, W]) and `input.batch.<i>.y` (int32 [B]), and the metadata
        lr, momentum, weight_decay, nesterov ("true"/"false") and steps. Trains with torch.optim.SGD, the model in
        train mode, mean cross-entropy, float32, one thread. OUT: `loss` (float32 [steps], the loss of each step
        before its update) and the final state dict (weights, batch-norm running statistics and counters).

    python3 dgkd/pytorch/parity.py losses IN OUT
        IN: named float32 tensors (logits [B, C], feature maps [B, C, H, W]), int32 labels, and the metadata
        `cases`, a JSON list of objects:
          {"name", "kind": "kd", "student", "teachers": [...], "labels", "T", "lambda",
           "reduction": "batchmean" | "elementwise-mean", "ce_weight", "keep": [bool, ...], "normalise": bool}
          {"name", "kind": "ctkd", "student", "scratch", "labels", "gamma", "beta",
           "target_features": [...], "expert_features": [...],
           "pairs": [{"target", "targetPool", "expert", "expertPool"}, ...]}
        (tensor fields name tensors of IN). Each loss is computed in float64 with autograd from the formulas of
        ../shared/methods.md; OUT holds `<name>.loss` [1], `<name>.grad.student` (d loss / d student logits)
        and for CTKD `<name>.grad.scratch` and `<name>.grad.feature.<i>` (d loss / d target_features[i]), float64.

Formulas (z_s student logits, z_t a teacher's, y labels, B batch, C classes):
    CE = mean_b −log softmax(z_s)_y
    KD(z_s, z_t) = T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)), summed over classes and divided by B (batchmean)
                   or by B·C (elementwise-mean, PyTorch KLDivLoss's default)
    KD / DGKD:  L = ce_weight·CE + λ·Σ_{t kept} KD(z_s, z_t), then ÷ (number of teachers) when normalise
    CTKD:       L = CE(z_scratch) + CE(z_s) + γ·mean_{b,c} (stopgrad(z_scratch) − z_s)²
                    + β·Σ_pairs mean_{b,hw} (at(pool(F)) − at(pool(stopgrad(E))))²
                at(x) = L2-normalise over positions of (mean over channels of x²)  (attention transfer's
                F.normalize(x.pow(2).mean(1).view(B, -1)))
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  (the PyTorch definitions of dgkd/models/, same folder)

NAMES = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32", np.dtype(np.int64): "I64",
         np.dtype(np.uint8): "U8"}


def write_safetensors(path, tensors, metadata=None):
    """Tensors (numpy arrays) in name order, packed back to back, after an 8-byte-aligned JSON header."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: str(v) for k, v in metadata.items()}
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name])
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        raw = a.tobytes()
        header[name] = {"dtype": NAMES[np.dtype(a.dtype.newbyteorder("="))], "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    js = json.dumps(header).encode()
    js += b" " * (-len(js) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(js)))
        f.write(js)
        for raw in blobs:
            f.write(raw)


def train(in_path, out_path):
    tensors, meta = models.read_safetensors(in_path)
    model = models.load_export(in_path).train()
    steps = int(meta["steps"])
    opt = torch.optim.SGD(model.parameters(), lr=float(meta["lr"]), momentum=float(meta["momentum"]),
                          weight_decay=float(meta["weight_decay"]), nesterov=meta["nesterov"] == "true")
    losses = []
    for i in range(steps):
        x = torch.from_numpy(tensors[f"input.batch.{i}.x"])
        y = torch.from_numpy(tensors[f"input.batch.{i}.y"]).long()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    out["loss"] = np.array(losses, dtype=np.float32)
    write_safetensors(out_path, out, {"arch": meta["arch"], "numClasses": meta["numClasses"]})


def attention(x):
    return F.normalize(x.pow(2).mean(1).view(x.size(0), -1))


def pool(x, k):
    return x if k == 1 else F.avg_pool2d(x, k)


def losses(in_path, out_path):
    raw, meta = models.read_safetensors(in_path)
    out = {}
    for case in json.loads(meta["cases"]):
        t = {k: torch.from_numpy(v.astype(np.float64)) for k, v in raw.items() if v.dtype == np.float32}
        labels = torch.from_numpy(raw[case["labels"]]).long()
        zs = t[case["student"]].requires_grad_(True)
        name = case["name"]
        if case["kind"] == "kd":
            T, lam = float(case["T"]), float(case["lambda"])
            loss = float(case["ce_weight"]) * F.cross_entropy(zs, labels)
            reduction = {"batchmean": "batchmean", "elementwise-mean": "mean"}[case["reduction"]]
            for teacher, kept in zip(case["teachers"], case["keep"]):
                if kept:
                    zt = t[teacher]
                    kd = T * T * F.kl_div(F.log_softmax(zs / T, 1), F.softmax(zt / T, 1), reduction=reduction)
                    loss = loss + lam * kd
            if case["normalise"] and len(case["teachers"]) > 1:
                loss = loss / len(case["teachers"])
            inputs = [zs]
        elif case["kind"] == "ctkd":
            zt = t[case["scratch"]].requires_grad_(True)
            feats = [t[n].requires_grad_(True) for n in case["target_features"]]
            expert = [t[n] for n in case["expert_features"]]
            loss = F.cross_entropy(zt, labels) + F.cross_entropy(zs, labels)
            loss = loss + float(case["gamma"]) * F.mse_loss(zs, zt.detach())
            for p in case["pairs"]:
                a = attention(pool(feats[p["target"]], p["targetPool"]))
                b = attention(pool(expert[p["expert"]].detach(), p["expertPool"]))
                loss = loss + float(case["beta"]) * (a - b).pow(2).mean()
            inputs = [zs, zt] + feats
        else:
            raise ValueError(f"unknown case kind {case['kind']!r}")
        grads = torch.autograd.grad(loss, inputs, allow_unused=True)
        out[f"{name}.loss"] = loss.detach().numpy().reshape(1)
        out[f"{name}.grad.student"] = grads[0].numpy()
        if case["kind"] == "ctkd":
            out[f"{name}.grad.scratch"] = grads[1].numpy()
            for i, (f, g) in enumerate(zip(feats, grads[2:])):
                out[f"{name}.grad.feature.{i}"] = (torch.zeros_like(f) if g is None else g).numpy()
    write_safetensors(out_path, out)


def main(argv):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if len(argv) >= 3 and argv[0] == "train" and len(argv) % 2 == 1:
        for i in range(1, len(argv), 2):
            train(argv[i], argv[i + 1])
        return 0
    if len(argv) == 3 and argv[0] == "losses":
        losses(argv[1], argv[2])
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
