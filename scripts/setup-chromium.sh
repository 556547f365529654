#!/usr/bin/env bash
# Debian's Chromium for the browser tests (npm run test:browser): headless, WebGPU through its built-in
# SwiftShader, driven by playwright-core at /usr/lib/chromium/chromium. Installed from the system's own apt
# sources when missing; nothing is downloaded by Playwright.
set -euo pipefail
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if [ -x /usr/lib/chromium/chromium ]; then
  echo "[setup-chromium] $(/usr/lib/chromium/chromium --version 2>/dev/null || echo chromium) is installed"
  exit 0
fi
command -v apt-get >/dev/null || { echo "[setup-chromium] apt-get not found: install Chromium and set CHROMIUM_PATH" >&2; exit 1; }
sudo_ apt-get update -qq
sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "[setup-chromium] installed $(/usr/lib/chromium/chromium --version 2>/dev/null)"
