#!/usr/bin/env bash
# Install soundtrack and what it needs on Debian/Ubuntu with Python 3.11.
#   ffmpeg, sox, espeak-ng: used by the demo and the benchmarks to make degraded clips and episodes
#   (soundtrack itself decodes through PyAV, whose wheels carry their own FFmpeg);
#   chromium, chromium-driver: the browser tests of the web page.
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
# the browser tests drive Debian's chromium through chromium-driver (they skip without them)
if ! { command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; }; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "installing Debian packages: chromium chromium-driver"
  { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; } \
    || echo "warning: could not install chromium and chromium-driver; the browser tests will be skipped" >&2
fi
"$PY" -m pip install -q --disable-pip-version-check -e ".[test]"
