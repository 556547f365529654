#!/usr/bin/env bash
# Installs a software Vulkan driver that Dawn accepts, for machines without a GPU.
#
#   bash scripts/setup-vulkan.sh            # lavapipe (Mesa >= 24), falling back to SwiftShader
#   bash scripts/setup-vulkan.sh swiftshader # SwiftShader only, into .cache/vulkan/ (no system change)
#
# Debian bookworm's own Mesa (22.3) is rejected by Dawn, so there we add a backports entry derived from the
# system's existing apt configuration (same mirror, same keyring) and install Mesa 25 from it. Newer
# distributions ship a Mesa that works as is. SwiftShader comes out of Debian's chromium-common package and is
# unpacked into the project-local cache folder, which engine/gpu.ts searches too.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="$root/.cache/vulkan"
want="${1:-auto}"

log() { printf '[setup-vulkan] %s\n' "$*" >&2; }
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

mesa_ok() {
  # lavapipe's ICD json plus a Mesa >= 24 library.
  local v
  ls /usr/share/vulkan/icd.d/lvp_icd*.json >/dev/null 2>&1 || return 1
  v=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo 0)
  [ "${v%%.*}" -ge 24 ] 2>/dev/null
}

swiftshader_ok() { [ -f "$cache/vk_swiftshader_icd.json" ] && [ -f "$cache/libvk_swiftshader.so" ]; }

apt_updated=0
apt_update() { [ $apt_updated = 1 ] || { sudo_ apt-get update -qq; apt_updated=1; }; }

# Writes /etc/apt/sources.list.d/dgkd-backports.sources by copying the stanza that carries the release's
# main suite and changing only its Suites line. Works for deb822 (.sources) and one-line (.list) formats.
add_backports() {
  local codename="$1" out=/etc/apt/sources.list.d/dgkd-backports.sources
  [ -f "$out" ] && return 0
  local stanza=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    stanza=$(awk -v s="$codename" 'BEGIN{RS="";FS="\n"} {
        for (i=1;i<=NF;i++) if ($i ~ /^Suites:/ && (" " $i " ") ~ (" " s " ")) { print; exit } }' "$f")
    [ -n "$stanza" ] && break
  done
  if [ -n "$stanza" ]; then
    printf '%s\n' "$stanza" | sed -E "s/^Suites:.*/Suites: ${codename}-backports/" | sudo_ tee "$out" >/dev/null
  else
    # one-line format: "deb [opts] URI codename components"
    local line
    line=$(grep -hE "^deb(\s+\[[^]]*\])?\s+\S+\s+${codename}\s" /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1 || true)
    [ -n "$line" ] || { log "no apt source for '$codename' found to derive backports from"; return 1; }
    out=/etc/apt/sources.list.d/dgkd-backports.list
    printf '%s\n' "$line" | sed -E "s/\s${codename}\s/ ${codename}-backports /" | sudo_ tee "$out" >/dev/null
  fi
  log "added $out"
  apt_updated=0
}

install_mesa() {
  command -v apt-get >/dev/null || { log "apt-get not found"; return 1; }
  local codename
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if [ "$codename" = bookworm ]; then
    add_backports bookworm || return 1
    apt_update
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
  else
    apt_update
    sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mesa-vulkan-drivers libvulkan1 >/dev/null
  fi
  mesa_ok
}

install_swiftshader() {
  command -v apt-get >/dev/null || { log "apt-get not found"; return 1; }
  apt_update
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download chromium-common >/dev/null 2>&1) || { log "could not download chromium-common"; rm -rf "$tmp"; return 1; }
  mkdir -p "$cache"
  dpkg-deb --fsys-tarfile "$tmp"/chromium-common_*.deb | tar -x -C "$tmp" ./usr/lib/chromium/libvk_swiftshader.so ./usr/lib/chromium/vk_swiftshader_icd.json
  cp "$tmp/usr/lib/chromium/libvk_swiftshader.so" "$cache/"
  # The json names the library relative to itself; keep it that way so the folder can move.
  sed -E 's#"library_path": *"[^"]*"#"library_path": "./libvk_swiftshader.so"#' \
    "$tmp/usr/lib/chromium/vk_swiftshader_icd.json" > "$cache/vk_swiftshader_icd.json"
  rm -rf "$tmp"
  # Dawn still needs the Vulkan loader.
  ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 || sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 >/dev/null
  swiftshader_ok
}

case "$want" in
  swiftshader)
    swiftshader_ok || install_swiftshader
    log "SwiftShader ready: $cache/vk_swiftshader_icd.json" ;;
  auto|lavapipe)
    if mesa_ok; then log "lavapipe already installed ($(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"; exit 0; fi
    if install_mesa; then log "lavapipe installed ($(dpkg-query -W -f='${Version}' mesa-vulkan-drivers))"; exit 0; fi
    [ "$want" = lavapipe ] && { log "lavapipe install failed"; exit 1; }
    log "lavapipe unavailable; falling back to SwiftShader"
    swiftshader_ok || install_swiftshader
    log "SwiftShader ready: $cache/vk_swiftshader_icd.json" ;;
  *) log "unknown driver '$want' (expected: auto, lavapipe or swiftshader)"; exit 2 ;;
esac
