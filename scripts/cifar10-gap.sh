#!/usr/bin/env bash
# The cifar10-gap experiment end to end (README, "Results at the papers' gap"), in three steps, each skipped when
# its result exists and continued from its last checkpoint when it was interrupted (--resume):
#   1. the reference teacher, plain8, 40 epochs (about 2–3 hours on two cores with lavapipe);
#   2. kept: exported to teachers/cifar10/plain8.safetensors with its manifest entry (scripts/kept-teachers.ts);
#   3. the comparison from the kept teacher: assistants and five seeds of every method (several hours).
# Stop it at any time (Ctrl-C or SIGTERM: the current step finishes and a checkpoint is saved) and run it again to
# continue; results/cifar10-gap/ holds everything a later run (on this machine or another) continues from.
#
#   bash scripts/cifar10-gap.sh DATA_DIR        (the CIFAR-10 binary folder, or the folder holding it)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:?usage: bash scripts/cifar10-gap.sh DATA_DIR}
OUT=results/cifar10-gap
TEACHER=teachers/cifar10/plain8.safetensors
TEACHER_RUN=(--preset cifar10-gap --method ce --student plain8 --epochs 40 --eval-every 2 --view-bank 0 --seeds 1
  --out "$OUT" --name teacher-plain8)

if [ ! -f "$TEACHER" ]; then
  npx tsx dgkd/train.ts "${TEACHER_RUN[@]}" --data-dir "$DATA" --resume
  key=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$OUT/teacher-plain8/summary.json', 'utf8')).stages[0].key)")
  npx tsx scripts/kept-teachers.ts keep --checkpoint "$OUT/_cache/$key/last.safetensors" --file "$TEACHER" --data-dir "$DATA" \
    --command "npx tsx dgkd/train.ts ${TEACHER_RUN[*]} --data-dir DATA_DIR"
fi
npx tsx dgkd/train.ts --preset cifar10-gap --teacher-checkpoint "$TEACHER" --data-dir "$DATA" --out "$OUT" --name comparison --resume
