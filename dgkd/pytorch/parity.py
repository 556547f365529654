"""PyTorch's side of test/pytorch-parity.test.ts: training steps and distillation losses computed by PyTorch, for
the test to compare with ours. Needs torch and numpy only (Debian's python3-torch and python3-numpy;
scripts/setup-torch.sh installs them). Files are safetensors; metadata values are strings. One thread.

    python3 dgkd/pytorch/parity.py train IN OUT
        IN: a model export (the state dict as dgkd/fit/export.ts writes it; metadata arch, numClasses), the
        batches `input.batch.<i>.x` (float32 [B, C, H, W]) and `input.batch.<i>.y` (int32 [B]), and the metadata
        lr, momentum, weight_decay, nesterov ("true"/"false") and steps. Trains with torch.optim.SGD, the model in
        train mode, mean cross-entropy, float32. OUT: `loss` (float32 [steps], each step's loss before its
        update) and the final state dict (weights, batch-norm running statistics and counters). A free run, for
        looking at by hand: the test uses `follow` (its comment says why).

    python3 dgkd/pytorch/parity.py follow IN OUT
        Checks another implementation's training run step by step. IN as for `train`, plus the metadata
        `states`, a JSON list of steps + 1 files: that implementation's state before each step and after the
        last (parameters and running statistics by state-dict name, `momentum.<name>` the SGD momentum buffer of
        each parameter; float32; 4-D tensors, i.e. conv weights, in the engine's [KH, KW, Cin, Cout] layout).
        PyTorch takes each step from exactly that step's state, in the metadata `dtype` (float32, the default,
        or float64: the exact step up to float64 rounding, ten times slower for vgg8), and compares its result,
        the reference, with the next file. OUT, float64 [steps] each: `loss`, the reference's loss of the step;
        `diff.stats` and `diff.param`, the largest over tensors of max|theirs − reference| / max|reference|
        after the step, for the running statistics and for the parameters; `diff.momentum`,
        ‖theirs − reference‖₂ / ‖reference‖₂ over all momentum buffers together (the error in the step's
        gradients plus weight decay); metadata `worst`, a JSON list (per step) of the tensor behind each figure.

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

    python3 dgkd/pytorch/parity.py serve
        Reads lines `COMMAND<tab>IN<tab>OUT` (COMMAND one of the above) from stdin and answers each with a line
        `OUT` when done, or `error<tab>OUT<tab>message` (torch is imported once). Prints `ready` first.

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
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import models  # noqa: E402  (the PyTorch definitions of dgkd/models/, same folder)


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
    models.write_safetensors(out_path, out, {"arch": meta["arch"], "numClasses": meta["numClasses"]})


def engine_state(path):
    """A state file of `follow` in PyTorch's layouts: 4-D tensors (conv weights and their momentum) come in the
    engine's [KH, KW, Cin, Cout] and are transposed to [Cout, Cin, KH, KW]."""
    tensors, _ = models.read_safetensors(path)
    return {k: np.ascontiguousarray(v.transpose(3, 2, 0, 1)) if v.ndim == 4 else v for k, v in tensors.items()}


def one_step(model, hyper, state, x, y, dtype):
    """One SGD step of `model` from `state` (parameters, running statistics, `momentum.<name>`), in `dtype`:
    the loss, then the state after the step (float64 numpy, momentum included)."""
    model.load_state_dict({k: torch.from_numpy(state[k]).to(dtype) for k in state if not k.startswith("momentum.")},
                          strict=False)
    opt = torch.optim.SGD(model.parameters(), **hyper)
    for n, p in model.named_parameters():
        opt.state[p]["momentum_buffer"] = torch.from_numpy(state["momentum." + n]).to(dtype).clone()
    opt.zero_grad()
    loss = F.cross_entropy(model(x.to(dtype)), y)
    loss.backward()
    opt.step()
    after = {k: v.double().numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    for n, p in model.named_parameters():
        after["momentum." + n] = opt.state[p]["momentum_buffer"].double().numpy()
    return loss.item(), after


def follow(in_path, out_path):
    tensors, meta = models.read_safetensors(in_path)
    dtype = {"float32": torch.float32, "float64": torch.float64}[meta.get("dtype", "float32")]
    model = models.load_export(in_path).to(dtype).train()
    params = [n for n, _ in model.named_parameters()]
    expected = {k for k in model.state_dict() if not k.endswith("num_batches_tracked")} | {"momentum." + n for n in params}
    steps, states = int(meta["steps"]), json.loads(meta["states"])
    hyper = dict(lr=float(meta["lr"]), momentum=float(meta["momentum"]), weight_decay=float(meta["weight_decay"]),
                 nesterov=meta["nesterov"] == "true")
    out = {k: np.zeros(steps) for k in ("loss", "diff.stats", "diff.param", "diff.momentum")}
    worst = []

    def rel(a, b):
        return float(np.abs(a - b).max() / max(float(np.abs(b).max()), 1e-300))

    state = engine_state(states[0])
    for i in range(steps):
        if set(state) != expected:
            raise ValueError(f"{states[i]}: tensors {sorted(set(state) ^ expected)} missing or unexpected")
        x = torch.from_numpy(tensors[f"input.batch.{i}.x"])
        y = torch.from_numpy(tensors[f"input.batch.{i}.y"]).long()
        out["loss"][i], ref = one_step(model, hyper, state, x, y, dtype)
        after = engine_state(states[i + 1])
        stats = max((rel(after[k], v), k) for k, v in ref.items() if k not in params and not k.startswith("momentum."))
        param = max((rel(after[k], ref[k]), k) for k in params)
        errors = {n: float(np.square(after["momentum." + n] - ref["momentum." + n]).sum()) for n in params}
        norm = sum(float(np.square(ref["momentum." + n]).sum()) for n in params)
        out["diff.stats"][i], out["diff.param"][i] = stats[0], param[0]
        out["diff.momentum"][i] = (sum(errors.values()) / norm) ** 0.5 if norm > 0 else 0.0
        worst.append({"stats": stats[1], "param": param[1], "momentum": max(errors, key=errors.get)})
        state = after
    models.write_safetensors(out_path, out, {"worst": json.dumps(worst)})


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
    models.write_safetensors(out_path, out, {})


COMMANDS = {"train": train, "follow": follow, "losses": losses}


def serve():
    print("ready", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        command, in_path, out_path = line.rstrip("\n").split("\t")
        try:
            COMMANDS[command](in_path, out_path)
            print(out_path, flush=True)
        except Exception as e:  # noqa: BLE001  (reported to the caller, who fails the test that asked)
            print(f"error\t{out_path}\t{type(e).__name__}: {e}".replace("\n", " "), flush=True)
    return 0


def main(argv):
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    if len(argv) == 3 and argv[0] in COMMANDS:
        COMMANDS[argv[0]](argv[1], argv[2])
        return 0
    if argv == ["serve"]:
        return serve()
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
