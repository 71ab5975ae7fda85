#!/usr/bin/env bash
# System packages the GPU backend needs (Debian), to run before `pnpm install`:
# - Chromium, for the WebGL2/WebGPU conformance in a real browser (SwiftShader);
# - Mesa's EGL/GLES, for Dawn's OpenGL ES backend over llvmpipe in Node (webgpu mode);
# - X headers and Xvfb, to build headless-gl (npm `gl`, from source) and give it a display;
# - Zalando's official Fashion-MNIST IDX files (dataset-fashion-mnist, 30 MB, in
#   /usr/share/datasets/fashion-mnist), read by @neurone/data's loadFashionMnist() and its tests.
# Installs only what is missing; needs root (apt-get).
set -euo pipefail

# node-gyp (headless-gl's build) downloads Node's headers unless its cache holds them:
# point the cache at the headers this Node ships with (no network needed).
ver=$(node -p process.versions.node)
inc="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/node-gyp/$ver"
if [ -f "$inc/node.h" ] && [ ! -f "$cache/installVersion" ]; then
  mkdir -p "$cache/include"
  ln -sfn "$inc" "$cache/include/node"
  echo 11 > "$cache/installVersion"
fi

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
for p in libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri libxi-dev libxext-dev libx11-dev pkg-config xvfb xauth dataset-fashion-mnist; do
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
