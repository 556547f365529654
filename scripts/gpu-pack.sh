#!/usr/bin/env bash
# Packs what a GPU machine without network or npm needs to run the benchmarks (see ../shared/gpu.md): the node
# binary, the node_modules needed at run time (Dawn for linux-x64, tsx/esbuild, TensorFlow.js for the side-by-side
# cases; no compilers, test runner or other platforms' binaries), and the Vulkan loader package. Writes .gpu/
# (git-ignored); bench/gpu.sh unpacks and runs it there. The bundle must stay under the 64 MiB a run may carry.
#
#   bash scripts/gpu-pack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/webgpu ] || { echo "gpu-pack: run 'npm ci' first (node_modules/webgpu is missing)" >&2; exit 1; }
mkdir -p .gpu
rm -f .gpu/*.deb

echo "gpu-pack: node $(node --version)"
xz -T2 -6 -c "$(command -v node)" > .gpu/node.xz

tar -cJf .gpu/node_modules.tar.xz \
  --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  --exclude='node_modules/typescript' --exclude='node_modules/@rolldown' --exclude='node_modules/rolldown' \
  --exclude='node_modules/lightningcss*' --exclude='node_modules/vite' --exclude='node_modules/vitest' \
  --exclude='node_modules/@vitest' --exclude='node_modules/core-js' \
  --exclude='node_modules/@tensorflow/tfjs-node*' \
  --exclude='*.map' --exclude='*.min.js' --exclude='*.es2017.js' --exclude='*.fesm.js' --exclude='*.d.ts' \
  node_modules

# The Vulkan loader, downloaded with the system's own apt sources (no host names here).
lists=$(mktemp -d)
o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
mkdir -p "$lists/partial"
apt-get "${o[@]}" update -qq
(cd .gpu && apt-get "${o[@]}" download -qq libvulkan1)
rm -rf "$lists"

total=$(du -cb .gpu/* | tail -1 | cut -f1)
ls -l .gpu
echo "gpu-pack: $((total / 1048576)) MiB in .gpu/"
if [ "$total" -gt $((60 * 1048576)) ]; then
  echo "gpu-pack: too big to carry (limit 64 MiB): trim the excludes above" >&2
  exit 1
fi
