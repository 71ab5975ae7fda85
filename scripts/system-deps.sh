#!/usr/bin/env bash
# System packages the GPU backend's tests need (Debian): Chromium for the WebGL2/WebGPU
# conformance in a real browser (SwiftShader), and Mesa's EGL/GLES for Dawn's OpenGL ES
# backend over llvmpipe in Node. Installs only what is missing; needs root (apt-get).
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for p in libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
  echo "system packages present"
  exit 0
fi
echo "installing: ${need[*]}"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
