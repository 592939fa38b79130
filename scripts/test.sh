#!/usr/bin/env bash
# Install everything, then run the test suite (this is what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
PY=${PYTHON:-python3}
# The catalog tests also run on PostgreSQL: start a throwaway server unless one was given.
if [ -z "${SOUNDTRACK_TEST_DATABASE_URL:-}" ]; then
  pg_env=$(bash scripts/postgres.sh start)  # fails the run if the server cannot start
  eval "$pg_env"
  trap 'bash scripts/postgres.sh stop "$SOUNDTRACK_TEST_PGDIR"' EXIT
fi
"$PY" -m ruff check src tests benchmarks
"$PY" -m pytest -q "$@"
