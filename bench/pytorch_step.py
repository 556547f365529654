"""PyTorch eager reference for bench/train_step.ts: the same training step, timed the same way.

The models are dgkd/pytorch/models.py's twins of dgkd/models/ (any name `models` lists: resnet8, plain8, wrn-16-2,
vgg8, …); the step is forward, cross-entropy, backward, SGD (lr 0.01, momentum 0.9, weight decay 1e-4) on one
fixed random batch, fp32, channels-first (PyTorch's default). Like our trainer, the loss of step k is read back
only after step k + 1 has been queued, so the device is never idle waiting for Python. On the CPU it uses every
core (--threads; some builds start with one thread).

    python3 bench/pytorch_step.py [--device cuda|cpu] [--batch 64] [--steps 20] [--models resnet8,resnet20]
                                  [--threads N] [--json]

Prints one line per model (images/s, median step time); --json prints
{"op":"train_step","impl":"pytorch-eager","model":...,"batch":...,"imagesPerSec":...,"stepMs":...,"device":...}.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F


# The model definitions are the project's PyTorch twins of dgkd/models/ (also what `export` loads into).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "dgkd" / "pytorch"))
from models import build  # noqa: E402
import os  # noqa: E402


def time_steps(model, batch, steps, device):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 10, (batch,), generator=gen).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss.detach()

    for _ in range(3):  # warm-up: cuDNN autotuning off, but allocator and kernels warm
        step().item()
    times = []
    prev = step()
    last = time.perf_counter()
    for _ in range(steps):
        nxt = step()
        prev.item()  # the previous step's loss: waits for it, while the next one is queued
        now = time.perf_counter()
        times.append(now - last)
        last = now
        prev = nxt
    prev.item()
    return statistics.median(times) * 1000


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--models", default="resnet8,resnet20")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)"
    for arch in args.models.split(","):
        try:
            model = build(arch).to(device).train()
        except ValueError as e:
            raise SystemExit(f"--models: {e}")
        ms = time_steps(model, args.batch, args.steps, device)
        ips = args.batch * 1000 / ms
        if args.json:
            print(json.dumps({"op": "train_step", "impl": "pytorch-eager", "model": arch, "batch": args.batch,
                              "imagesPerSec": round(ips, 2), "stepMs": round(ms, 2), "device": name,
                              "torch": torch.__version__}))
        else:
            print(f"{arch:10} batch {args.batch}: {ips:10.1f} img/s (median step {ms:.1f} ms over {args.steps}) on {name}")


if __name__ == "__main__":
    main()
