#!/usr/bin/env bash
# CI check of drift and drift-sandbox against the official Azure clients (.ci/run calls it): the oracle suite in
# tests/oracle/ (see its README). Steps, each timed:
#   1 venv      tests/oracle/requirements.txt (azure-ai-ml 1.35.2, mltable 1.7.0, pytest, ruff; all pinned) into
#               .ci/cache/oracle-venv, reused while the requirements file is unchanged (~25 s cold, 0 s warm)
#   2 lint      ruff check and ruff format --check on tests/oracle/
#   3 binaries  $DRIFT_SANDBOX_BIN and $DRIFT_BIN, else target/debug (CARGO_TARGET_DIR honoured), built with cargo
#               when missing
#   4 pytest    the suite: sandbox conformance, request parity, read-back, MLTable, SDK facts (~10 s)
#
#   scripts/ci-oracle-check.sh [PYTEST ARGS...]
#
# Ends with `oracle checks: N passed, 0 failed`. Needs no network beyond PyPI (step 1, cold only) and loopback.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SUITE="$ROOT/tests/oracle"
VENV="${DRIFT_ORACLE_VENV:-$ROOT/.ci/cache/oracle-venv}"
# Unused here (no shared sandbox: every test module starts its own), set for check-lib.sh's sake.
FIXTURES="$SUITE"

CHECK=oracle
# shellcheck source=scripts/check-lib.sh
source "$ROOT/scripts/check-lib.sh"

venv() {
  local stamp="$VENV/.drift-requirements" want
  want="$(sha256sum "$SUITE/requirements.txt" | cut -d' ' -f1)"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  echo "ci-oracle-check.sh: installing tests/oracle/requirements.txt into $VENV" >&2
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SUITE/requirements.txt" >&2
  echo "$want" >"$stamp"
}

lint() {
  (cd "$ROOT" && "$VENV/bin/ruff" check tests/oracle && "$VENV/bin/ruff" format --check tests/oracle)
}

binaries() {
  if [ -z "${DRIFT_SANDBOX_BIN:-}" ] || [ -z "${DRIFT_BIN:-}" ]; then
    if [ ! -x "$CARGO_TARGET_DIR/debug/drift-sandbox" ] || [ ! -x "$CARGO_TARGET_DIR/debug/drift" ]; then
      (cd "$ROOT" && cargo build --locked -p drift-sandbox --bin drift-sandbox -p drift --bin drift >&2)
    fi
  fi
  export DRIFT_SANDBOX_BIN="${DRIFT_SANDBOX_BIN:-$CARGO_TARGET_DIR/debug/drift-sandbox}"
  export DRIFT_BIN="${DRIFT_BIN:-$CARGO_TARGET_DIR/debug/drift}"
  [ -x "$DRIFT_SANDBOX_BIN" ] || fail "no drift-sandbox at $DRIFT_SANDBOX_BIN"
  [ -x "$DRIFT_BIN" ] || fail "no drift at $DRIFT_BIN"
  echo "ci-oracle-check.sh: drift-sandbox $DRIFT_SANDBOX_BIN, drift $DRIFT_BIN" >&2
}

suite() {
  # A clean environment for the SDK: no proxies (loopback only), no Azure settings from the host, HOME in the
  # work dir (the SDK and mltable write caches and config there).
  env -i PATH="$VENV/bin:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 \
    DRIFT_SANDBOX_BIN="$DRIFT_SANDBOX_BIN" DRIFT_BIN="$DRIFT_BIN" \
    "$VENV/bin/python" -m pytest -q -c "$SUITE/pytest.ini" --rootdir "$SUITE" "$SUITE" "$@"
}

step venv venv
step lint lint
step binaries binaries
step pytest suite "$@"
finish
