#!/usr/bin/env bash
# Install soundtrack and what it needs on Debian/Ubuntu with Python 3.11.
#   ffmpeg, sox, espeak-ng: used by the demo and the benchmarks to make degraded clips and episodes
#   (soundtrack itself decodes through PyAV, whose wheels carry their own FFmpeg).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
need_apt=()
for tool in ffmpeg sox espeak-ng; do command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool"); done
if [ ${#need_apt[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  pkgs=("${need_apt[@]}"); [[ " ${need_apt[*]} " == *" sox "* ]] && pkgs+=(libsox-fmt-all)
  echo "installing Debian packages: ${pkgs[*]}"
  # the tests do not need these tools (PyAV carries its own FFmpeg): warn, don't fail, without them
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${pkgs[@]}" >/dev/null; } \
    || echo "warning: could not install ${pkgs[*]}; the demo and benchmarks need them" >&2
fi
"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
