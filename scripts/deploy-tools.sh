#!/usr/bin/env bash
# Installs the Python-side build and test tools of drift's deployment pieces (maturin, zig, cargo-zigbuild, pytest,
# ruff, and databricks-bundles + PyYAML to check the example bundles) from PyPI into one venv under .ci/cache/ (git-ignored), unless it already holds exactly these versions, and
# prints the venv's bin folder on stdout. Used by build-wheel.sh, build-static.sh and the ci-*-check.sh scripts.
#
#   BIN="$(scripts/deploy-tools.sh)"
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
VENV="${DRIFT_DEPLOY_VENV:-$ROOT/.ci/cache/deploy-venv}"
# Pinned so CI builds the same wheel every time; bump together and re-run scripts/ci-wheel-check.sh.
REQUIREMENTS="maturin==1.16.0 ziglang==0.17.1 cargo-zigbuild==0.24.0 pytest==9.2.0 ruff==0.17.6
  databricks-bundles==1.22.1 PyYAML==6.0.4"

stamp="$VENV/.drift-requirements"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$REQUIREMENTS" ]; then
  started=$(date +%s)
  echo "deploy-tools.sh: installing $REQUIREMENTS into $VENV" >&2
  python3 -m venv "$VENV" >&2
  # shellcheck disable=SC2086 # the list is split on purpose
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check $REQUIREMENTS >&2
  echo "$REQUIREMENTS" > "$stamp"
  echo "deploy-tools.sh: ready in $(( $(date +%s) - started )) s" >&2
fi
echo "$VENV/bin"
