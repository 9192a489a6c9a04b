#!/usr/bin/env bash
# CI check of the Databricks wheel (.ci/run calls it). Steps, each timed:
#   1 tools      maturin, zig, pytest, ruff from PyPI into .ci/cache/deploy-venv (scripts/deploy-tools.sh)
#   2 lint       ruff format --check and ruff check on python/; shellcheck on scripts/ when installed
#   3 pytest     the shim's unit tests (fake binary, fake dbutils)
#   4 wheel      scripts/build-wheel.sh: manylinux2014 tag, entry point, GLIBC <= 2.17
#   5 install    the wheel into a fresh venv
#   6 lookup     python_wheel_task's lookup: entry point `spark_job` by name in any group, and the
#                `drift.spark_job()` fallback, resolve to the same shim
#   7 help       `spark_job --help` (the launcher on PATH) and the same through the task's lookup, and
#                the shim's exit-code table (drift._databricks.EXIT_CODES) is the one `spark_job --help` lists
#   8 sandbox    registrator, registrator again (unchanged), retrainer, a run with a wrong secret and one whose
#                scope lacks ApplicationID, each as python_wheel_task runs them, through the shim with the fake
#                dbutils, against drift-sandbox seeded from tests/fixtures/deploy/seed.json; asserts
#                data_asset_version reached taskValues.set and each failure's DriftError
#
#   scripts/ci-wheel-check.sh [--wheel PATH] [--skip-sandbox]
#
# --wheel reuses a built wheel (skips step 4). The sandbox comes from $DRIFT_SANDBOX_BIN or is built with cargo
# (debug profile, CARGO_TARGET_DIR honoured). Ends with `wheel checks: N passed, 0 failed`.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
WHEEL=""
SKIP_SANDBOX=0
while [ $# -gt 0 ]; do
  case "$1" in
    --wheel) WHEEL="$(readlink -f "$2")"; shift 2 ;;
    --skip-sandbox) SKIP_SANDBOX=1; shift ;;
    *) echo "ci-wheel-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FIXTURES="$ROOT/tests/fixtures/deploy"
SCOPE=drift-deploy-scope
TENANT=7d1c5a3e-0b2f-4e6d-9a8c-1f2e3d4c5b6a
CLIENT_ID=3b9e2f41-6c7d-4a8b-9e0f-1a2b3c4d5e6f
CLIENT_SECRET='deploy-check~not-a-real-secret'

CHECK=wheel
# shellcheck source=scripts/check-lib.sh
source "$ROOT/scripts/check-lib.sh"

tools() { TOOLS="$("$ROOT/scripts/deploy-tools.sh")"; }

lint() {
  "$TOOLS/ruff" format --check "$ROOT/python"
  "$TOOLS/ruff" check "$ROOT/python"
  if command -v shellcheck >/dev/null 2>&1; then
    (cd "$ROOT" && shellcheck -x scripts/build-*.sh scripts/ci-*-check.sh scripts/check-lib.sh scripts/deploy-tools.sh)
  else
    echo "ci-wheel-check.sh: shellcheck not installed; skipped" >&2
  fi
}

unit_tests() { (cd "$ROOT" && "$TOOLS/pytest" -q python/tests); }

# The build's stdout is echoed to our inherited stderr (not `tee /dev/stderr`, which reopens a log file truncated).
build_wheel() { local out; out="$("$ROOT/scripts/build-wheel.sh" --out "$WORK/dist")"; printf '%s\n' "$out" >&2; WHEEL="$(printf '%s\n' "$out" | sed -n 's/^WHEEL //p')"; }

install_wheel() {
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$WHEEL"
  [ -x "$WORK/venv/bin/drift" ] || fail "the wheel installed no drift binary"
  [ -x "$WORK/venv/bin/spark_job" ] || fail "the wheel installed no spark_job launcher"
}

# What the task runs: python wheel_task.py drift spark_job PARAMETERS..., in a clean environment.
wheel_task() {
  env -i PATH="$WORK/venv/bin:/usr/bin:/bin" HOME="$WORK" LANG=C.UTF-8 "$@"
}

lookup() {
  wheel_task "$WORK/venv/bin/python" "$ROOT/python/tests/wheel_task.py" --check drift spark_job
}

help_check() {
  local out
  out="$(wheel_task spark_job --help)"
  grep -q 'Usage: spark_job' <<<"$out" || fail "spark_job --help did not print the legacy usage:
$out"
  grep -q 'Exit codes:' <<<"$out" || fail "spark_job --help has no exit-code table"
  # The codes --help lists (lines `  N    meaning` after `Exit codes:`) are the ones the shim explains, plus 0.
  local listed explained
  listed="$(sed -n '/^Exit codes:/,$s/^  \([0-9][0-9]*\)  .*/\1/p' <<<"$out" | sort -n | xargs)"
  explained="$(wheel_task "$WORK/venv/bin/python" -c \
    'from drift._databricks import EXIT_CODES; print(" ".join(map(str, sorted({0, *EXIT_CODES}))))')"
  [ "$listed" = "$explained" ] || fail "spark_job --help lists exit codes '$listed', the shim explains '$explained'"
  out="$(wheel_task "$WORK/venv/bin/python" "$ROOT/python/tests/wheel_task.py" drift spark_job --help)"
  grep -q 'Usage: spark_job' <<<"$out" || fail "the task's spark_job --help did not print the legacy usage"
}

# The workspace's secret scopes for the fake dbutils (FAKE_DBUTILS_SECRETS): $SCOPE holding the service
# principal with the secret SECRET, less the keys named after it.
# Usage: scopes SECRET [MISSING_KEY...]
scopes() {
  python3 - "$SCOPE" "$CLIENT_ID" "$1" "$TENANT" "${@:2}" <<'EOF'
import json, sys
scope, client_id, secret, tenant, *missing = sys.argv[1:]
keys = {"ApplicationID": client_id, "ApplicationPassword": secret, "TenantID": tenant}
print(json.dumps({scope: {k: v for k, v in keys.items() if k not in missing}}))
EOF
}

# Runs the legacy command line as python_wheel_task does, "on Databricks": the fake databricks.sdk.runtime
# first on PYTHONPATH, DATABRICKS_RUNTIME_VERSION set, the workspace's secret scopes in FAKE_DBUTILS_SECRETS.
# Usage: databricks_task NAME SCOPES_JSON PARAMETERS...; stdout/stderr/exit code land in $WORK/NAME.*
databricks_task() {
  local name="$1" secrets="$2"
  shift 2
  local code=0
  wheel_task "${SANDBOX_ENV[@]}" DATABRICKS_RUNTIME_VERSION=15.4 PYTHONPATH="$ROOT/python/tests/fake_databricks" \
    FAKE_DBUTILS_SECRETS="$secrets" FAKE_DBUTILS_LOG="$WORK/$name.dbutils.jsonl" DRIFT_LOG_FORMAT=text \
    "$WORK/venv/bin/python" "$ROOT/python/tests/wheel_task.py" drift spark_job "$@" \
    >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" || code=$?
  echo "$code" >"$WORK/$name.code"
}

# Asserts on one run: expected exit code, then a Python expression over `report` (the last stdout line as
# JSON, or None), `calls` (the fake dbutils' log) and `stderr`.
expect() {
  local name="$1" code="$2" assertion="$3"
  if [ "$(cat "$WORK/$name.code")" != "$code" ]; then
    cat "$WORK/$name.stdout" "$WORK/$name.stderr" >&2
    fail "$name exited $(cat "$WORK/$name.code"), expected $code"
  fi
  python3 - "$WORK" "$name" "$assertion" <<'EOF'
import json, pathlib, sys
work, name, assertion = pathlib.Path(sys.argv[1]), sys.argv[2], sys.argv[3]
lines = (work / f"{name}.stdout").read_text().splitlines()
report = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else None
log = work / f"{name}.dbutils.jsonl"
calls = [json.loads(l) for l in log.read_text().splitlines()] if log.exists() else []
stderr = (work / f"{name}.stderr").read_text()
if not eval(assertion):
    sys.exit(f"{name}: assertion failed: {assertion}\nreport={report}\ncalls={calls}\nstderr:\n{stderr}")
EOF
}

sandbox() {
  start_sandbox
  local sets='[(c["key"], c["value"]) for c in calls if c["call"] == "taskValues.set"]'
  local gets='[(c["scope"], c["key"]) for c in calls if c["call"] == "secrets.get"]'
  databricks_task register "$(scopes "$CLIENT_SECRET")" --config "$FIXTURES/registrator.yaml" --tenant "$TENANT" \
    --vault_name "$SCOPE" --output json
  expect register 0 "report['outcome'] == 'registered' and $gets == [('$SCOPE', k) for k in ('ApplicationID', 'ApplicationPassword', 'TenantID')] and $sets == [('data_asset_version', report['task_values']['data_asset_version'])]"
  local version
  version="$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])["task_values"]["data_asset_version"])' "$WORK/register.stdout")"
  echo "ci-wheel-check.sh: the registrator published data_asset_version=$version through taskValues.set" >&2

  databricks_task register-again "$(scopes "$CLIENT_SECRET")" --config "$FIXTURES/registrator.yaml" --tenant "$TENANT" \
    --vault_name "$SCOPE" --output json
  expect register-again 0 "report['outcome'] == 'unchanged' and $sets == [('data_asset_version', '$version')]"

  databricks_task retrain "$(scopes "$CLIENT_SECRET")" --config "$FIXTURES/retrainer.yaml" --tenant "$TENANT" \
    --vault_name "$SCOPE" --data_asset_version "$version" --output json
  expect retrain 0 "report['outcome'] == 'completed' and report['details']['targetVersion'] == '$version' and sorted(g['job']['status'] for g in report['details']['groups']) == ['Completed', 'Completed']"

  databricks_task rejected "$(scopes 'not-the-secret-value')" --config "$FIXTURES/retrainer.yaml" --tenant "$TENANT" \
    --vault_name "$SCOPE" --data_asset_version "$version" --output json
  expect rejected 1 "'DriftError: drift exited with code 3 (authentication or authorization error):' in stderr and 'not-the-secret-value' not in stderr and $sets == []"

  # Issue 9, row 15: a scope without ApplicationID fails with a DriftError naming scope and key (exit code 3 in its
  # message) before drift runs, and no dbutils traceback is chained to it.
  databricks_task no-application-id "$(scopes "$CLIENT_SECRET" ApplicationID)" --config "$FIXTURES/registrator.yaml" \
    --tenant "$TENANT" --vault_name "$SCOPE" --output json
  expect no-application-id 1 "stderr.count('Traceback') == 1 and 'Py4JJavaError' not in stderr and stderr.strip().splitlines()[-1].startswith(\"drift._databricks.DriftError: cannot read the service principal (authentication or authorization error, exit code 3): Databricks secret scope '$SCOPE' (--vault_name) has no key 'ApplicationID'; keys in it: ApplicationPassword, TenantID.\") and '$CLIENT_SECRET' not in stderr and report is None and $gets == [('$SCOPE', 'ApplicationID')]"
  echo "ci-wheel-check.sh: a scope without ApplicationID: $(tail -n1 "$WORK/no-application-id.stderr" | cut -c1-160)…" >&2
}

step tools tools
step lint lint
step pytest unit_tests
if [ -z "$WHEEL" ]; then step wheel build_wheel; fi
step install install_wheel
step lookup lookup
step help help_check
if [ "$SKIP_SANDBOX" = 0 ]; then step sandbox sandbox; fi
finish
