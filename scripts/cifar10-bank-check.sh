#!/usr/bin/env bash
# What the view bank changes (README, "Results at the papers' gap"): KD from the kept plain8 teacher to plain2,
# the cifar10-gap recipe shortened to 6 epochs, three seeds, once with the bank of 20 augmented views per image
# (teacher logits computed once) and once without (the teacher runs on every step's own augmentation). Both
# runs share the comparison's store, so the bank's logits are the comparison's own and are computed only once.
# Stop it at any time and run it again to continue.
#
#   bash scripts/cifar10-bank-check.sh DATA_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bash scripts/cifar10-bank-check.sh DATA_DIR}
COMMON=(--preset cifar10-gap --teacher-checkpoint teachers/cifar10/plain8.safetensors --data-dir "$DATA" --method kd
  --student plain2 --epochs 6 --seeds 3 --store results/cifar10-gap --out results/cifar10-bank-check --resume)
for bank in 20 0; do
  npx tsx dgkd/train.ts "${COMMON[@]}" --view-bank "$bank" --name "bank$bank"
done
