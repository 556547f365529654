#!/usr/bin/env bash
# Debian's redis-server for the queue tests (test/queue.test.ts starts its own on a free loopback port, no
# persistence) and for running stages across machines. Installed from the system's own apt sources when missing.
set -euo pipefail
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if command -v redis-server >/dev/null; then
  echo "[setup-redis] $(redis-server --version | cut -d' ' -f1-3) is installed"
  exit 0
fi
command -v apt-get >/dev/null || { echo "[setup-redis] apt-get not found: install redis-server" >&2; exit 1; }
sudo_ apt-get update -qq
sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
echo "[setup-redis] installed $(redis-server --version | cut -d' ' -f1-3)"
