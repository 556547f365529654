#!/usr/bin/env bash
# The benchmark run for a lent GPU machine (see ../shared/gpu.md): it has no network and no npm, so everything
# comes from .gpu/ (made here by scripts/gpu-pack.sh). One call does it all and prints a table last:
#   1. unpack node, node_modules and the Vulkan loader; a probe (the adapter Dawn sees, or the ICD files if none)
#   2. our kernels against TensorFlow.js WebGPU on the same device (bench/run.ts --json); then the kernel ladder
#      (bench/ladder.ts: naive / tiled / cpu per pass, the winners cached for step 3)
#   3. training steps of ResNet-8 / ResNet-20 at batch 64 and 128: ours (bench/train_step.ts) and PyTorch eager on
#      the same card (bench/pytorch_step.py)
# Logs and JSON lines go to $OUT (the device tool's output folder; /tmp/gpu-out otherwise).
#
#   bash bench/gpu.sh                  on the GPU machine, from the repository root
#   GPU_ICD=<icd.json> bash bench/gpu.sh   another Vulkan driver (e.g. lavapipe, to try the bundle on a CPU machine)
#   GPU_QUICK=1 ...                    a few cases and steps only (a check of the bundle, not a measurement)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-out}
mkdir -p "$OUT"
log() { echo "[gpu.sh] $*" | tee -a "$OUT/gpu.log" >&2; }

if [ -z "$(ls .gpu/*.deb 2>/dev/null)" ] || [ ! -f .gpu/node.xz ]; then
  echo "bench/gpu.sh: .gpu/ is missing or incomplete: run 'bash scripts/gpu-pack.sh' first and carry .gpu" >&2
  exit 2
fi
if ! command -v node >/dev/null || [ "$(node -e 'process.stdout.write(process.versions.node.split(".")[0])')" -lt 20 ]; then
  mkdir -p /tmp/n && xz -dc .gpu/node.xz > /tmp/n/node && chmod +x /tmp/n/node && export PATH=/tmp/n:$PATH
fi
if [ ! -d node_modules/webgpu ]; then tar -xJf .gpu/node_modules.tar.xz; fi
if [ -z "${GPU_ICD:-}" ]; then
  for f in .gpu/*.deb; do dpkg -x "$f" /; done
  ldconfig 2>/dev/null || true
  export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
else
  export VK_DRIVER_FILES=$GPU_ICD VK_ICD_FILENAMES=$GPU_ICD
fi
export XDG_RUNTIME_DIR=/tmp
TSX=node_modules/.bin/tsx
log "node $(node --version); driver $VK_DRIVER_FILES"

# 1. Probe: one matmul benchmark names the adapter; with none, show what Vulkan drivers exist.
if ! timeout 300 $TSX bench/matmul.ts --json > "$OUT/probe.jsonl" 2> "$OUT/probe.err"; then
  log "probe failed (see probe.err); ICD files:"
  ls /usr/local/nvidia/share/vulkan/icd.d/ /usr/share/vulkan/icd.d/ 2>&1 | tee -a "$OUT/gpu.log"
  tail -20 "$OUT/probe.err" >&2
  exit 1
fi
log "probe: $(head -c 300 "$OUT/probe.jsonl")"

# 2. Kernels and training steps side by side with TensorFlow.js (batch 64).
RUN_ARGS=(--json); STEPS=20; BATCHES="64 128"
if [ -n "${GPU_QUICK:-}" ]; then RUN_ARGS=(--json --quick --cases matmul-256,train-resnet8); STEPS=3; BATCHES=64; fi
timeout 900 $TSX bench/run.ts "${RUN_ARGS[@]}" > "$OUT/run.jsonl" 2> "$OUT/run.err" || log "bench/run.ts failed (run.err)"

# 2b. The kernel ladder (docs/kernel-ladder.md): every family per pass; --save caches the winners for this
#     adapter, so the training steps below run on the families measured fastest here.
LADDER_ARGS=(--json --save --batch 64); [ -n "${GPU_QUICK:-}" ] && LADDER_ARGS+=(--quick)
timeout 600 $TSX bench/ladder.ts "${LADDER_ARGS[@]}" > "$OUT/ladder.jsonl" 2> "$OUT/ladder.err" || log "bench/ladder.ts failed (ladder.err)"

# 3. Training steps at batch 64 and 128 (on the measured families): ours, then PyTorch eager on the same card.
for b in $BATCHES; do
  timeout 600 $TSX bench/train_step.ts --json --batch "$b" --steps "$STEPS" --models resnet8,resnet20 \
    >> "$OUT/train.jsonl" 2>> "$OUT/train.err" || log "train_step batch $b failed (train.err)"
  if python3 -c 'import torch' 2>/dev/null; then
    timeout 600 python3 bench/pytorch_step.py --json --batch "$b" --steps "$STEPS" \
      >> "$OUT/pytorch.jsonl" 2>> "$OUT/pytorch.err" || log "pytorch_step batch $b failed (pytorch.err)"
  else
    log "no torch here: PyTorch reference skipped"
  fi
done

cp bench/results/*.json "$OUT"/ 2>/dev/null || true

# The table, last.
node -e '
const fs = require("fs");
const lines = (f) => fs.existsSync(process.argv[1] + "/" + f) ? fs.readFileSync(process.argv[1] + "/" + f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)) : [];
const row = (a, b, c, d) => console.log(String(a).padEnd(34), String(b).padStart(12), String(c).padStart(12), String(d).padStart(9));
row("case", "ours", "reference", "ratio");
for (const r of lines("run.jsonl")) row(r.case, (+r.ours).toPrecision(4), r.tfjs == null ? "-" : (+r.tfjs).toPrecision(4) + " tfjs", r.ratio == null ? "-" : r.ratio.toFixed(2) + "x");
for (const r of lines("ladder.jsonl")) row(r.case, r.gflops[r.best].toFixed(1) + " " + r.best, Object.entries(r.gflops).filter(([f]) => f !== r.best).map(([f, g]) => f + " " + g.toFixed(1)).join(" "), "GFLOP/s");
const torch = lines("pytorch.jsonl");
for (const r of lines("train.jsonl")) {
  const t = torch.find((p) => p.model === r.model && p.batch === r.batch);
  row(`train ${r.model} b${r.batch} img/s`, r.imagesPerSec.toFixed(1), t ? t.imagesPerSec.toFixed(1) + " torch" : "-", t ? (r.imagesPerSec / t.imagesPerSec).toFixed(2) + "x" : "-");
}
' "$OUT"
