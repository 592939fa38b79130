#!/usr/bin/env bash
# Install everything, then run the test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
PY=${PYTHON:-python3}
"$PY" -m ruff check src tests benchmarks
"$PY" -m pytest -q "$@"
