#!/usr/bin/env bash
# Debian's PyTorch and NumPy for /usr/bin/python3, which test/pytorch-parity.test.ts and dgkd/pytorch/*.py use
# (the parity test fails without them). Installed from the system's own apt sources when the import fails.
set -euo pipefail
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
check() { /usr/bin/python3 -c 'import torch, numpy; print(f"torch {torch.__version__}, numpy {numpy.__version__}")' 2>/dev/null; }
if version=$(check); then
  echo "[setup-torch] /usr/bin/python3 has $version"
  exit 0
fi
command -v apt-get >/dev/null || { echo "[setup-torch] apt-get not found: install torch and numpy for /usr/bin/python3" >&2; exit 1; }
sudo_ apt-get update -qq
sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-torch python3-numpy >/dev/null
version=$(check) || { echo "[setup-torch] python3-torch is installed but /usr/bin/python3 cannot import torch and numpy" >&2; exit 1; }
echo "[setup-torch] installed: /usr/bin/python3 has $version"
