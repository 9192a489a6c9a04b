#!/usr/bin/env bash
# CI check of the Databricks wheel (.ci/run calls it). Steps, each timed:
#   1 tools      maturin, zig, pytest, ruff from PyPI into .ci/cache/deploy-venv (scripts/deploy-tools.sh)
#   2 lint       ruff format --check and ruff check on python/ and scripts/; shellcheck on scripts/ when installed
#   3 pytest     the shim's unit tests (fake binary, fake dbutils) and the example bundles' schema checks
#   4 wheel      scripts/build-wheel.sh: manylinux2014 tag, entry point, GLIBC <= 2.17, completions + man pages
#   5 metadata   the wheel's METADATA is the PyPI page: python/README.md as text/markdown, project URLs,
#                classifiers; every link absolute, every repository link naming a file that exists, every
#                Databricks reference escaped
#   6 install    the wheel into a fresh venv; the completions and man pages land under <venv>/share/, `man drift`
#                finds the page through the venv's bin/ on PATH, and every page renders
#   7 lookup     python_wheel_task's lookup: entry point `spark_job` by name in any group, and the
#                `drift.spark_job()` fallback, resolve to the same shim
#   8 help       `spark_job --help` (the launcher on PATH) and the same through the task's lookup, and
#                the shim's exit-code table (drift._databricks.EXIT_CODES) is the one `spark_job --help` lists
#   9 sandbox    registrator, registrator again (unchanged), retrainer, a run with a wrong secret and one whose
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
  "$TOOLS/ruff" format --check "$ROOT/python" "$ROOT/scripts"
  "$TOOLS/ruff" check "$ROOT/python" "$ROOT/scripts"
  if command -v shellcheck >/dev/null 2>&1; then
    (cd "$ROOT" && shellcheck -x scripts/build-*.sh scripts/ci-*-check.sh scripts/check-lib.sh scripts/deploy-tools.sh \
      scripts/cli-docs.sh)
  else
    echo "ci-wheel-check.sh: shellcheck not installed; skipped" >&2
  fi
}

unit_tests() { (cd "$ROOT" && "$TOOLS/pytest" -q python/tests); }

# The build's stdout is echoed to our inherited stderr (not `tee /dev/stderr`, which reopens a log file truncated).
build_wheel() { local out; out="$("$ROOT/scripts/build-wheel.sh" --out "$WORK/dist")"; printf '%s\n' "$out" >&2; WHEEL="$(printf '%s\n' "$out" | sed -n 's/^WHEEL //p')"; }

# The PyPI page is the wheel's METADATA: python/README.md, as Markdown, with links that resolve off the repository.
metadata() {
  python3 - "$WHEEL" "$ROOT" <<'EOF'
import pathlib, re, sys, zipfile
from email.parser import HeaderParser

wheel, root = sys.argv[1], pathlib.Path(sys.argv[2])
REPO = "https://github.com/drift-mlops/drift"
with zipfile.ZipFile(wheel) as w:
    name = next(n for n in w.namelist() if n.endswith(".dist-info/METADATA"))
    meta = HeaderParser().parsestr(w.read(name).decode("utf-8"))
problems = []
body = meta.get_payload()
readme = (root / "python/README.md").read_text(encoding="utf-8")
if body.strip() != readme.strip():
    problems.append("the description is not python/README.md")
if not (meta["Description-Content-Type"] or "").startswith("text/markdown"):
    problems.append(f"Description-Content-Type is {meta['Description-Content-Type']!r}, not text/markdown")
urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
for label in ("Homepage", "Documentation", "Repository", "Issues"):
    if not urls.get(label, "").startswith(REPO):
        problems.append(f"no Project-URL {label} under {REPO}: {urls}")
classifiers = meta.get_all("Classifier") or []
for c in ("Programming Language :: Python :: 3", "Operating System :: POSIX :: Linux"):
    if c not in classifiers:
        problems.append(f"classifier {c!r} missing: {classifiers}")
for needle in ("python_wheel_task", "package_name: drift", "entry_point: spark_job",
               "{{tasks.`training-dataset-registrator`.values.data_asset_version}}"):
    if needle not in body:
        problems.append(f"the page does not show {needle}")
# Links: the Markdown [text](target) ones and the project URLs. On PyPI only absolute links resolve.
links = re.findall(r"\]\(([^)\s]+)\)", body)
for target in links + list(urls.values()):
    if not target.startswith("https://"):
        problems.append(f"link {target!r} is not an absolute https URL: it breaks on PyPI")
    elif target.startswith(REPO + "/blob/main/"):
        path = target[len(REPO + "/blob/main/"):].split("#")[0]
        if not (root / path).is_file():
            problems.append(f"link {target} names {path}, which is not in the repository")
    elif target not in (REPO, REPO + "/issues"):
        problems.append(f"link {target} points outside the repository; check it resolves, then allow it here")
# Databricks references: identifiers other than letters, digits and _ in backticks (docs/deploy-databricks.md).
for ref in re.findall(r"(?<!\$)\{\{([^{}]*)\}\}", body):
    if ref.startswith("secrets/"):
        continue
    parts = re.findall(r"`[^`]+`|[^.]+", ref)
    if not all(re.fullmatch(r"[A-Za-z0-9_]+|`[^`]+`", p) for p in parts):
        problems.append(f"unescaped Databricks reference {{{{{ref}}}}}")
if problems:
    sys.exit("METADATA problems:\n  " + "\n  ".join(problems))
print(f"ci-wheel-check.sh: METADATA: {len(body)} characters of description, {len(links)} links, "
      f"{len(urls)} project URLs, {len(classifiers)} classifiers", file=sys.stderr)
EOF
}

install_wheel() {
  python3 -m venv "$WORK/venv"
  "$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-index --no-deps "$WHEEL"
  [ -x "$WORK/venv/bin/drift" ] || fail "the wheel installed no drift binary"
  [ -x "$WORK/venv/bin/spark_job" ] || fail "the wheel installed no spark_job launcher"
  # The wheel's data files land in the environment's root (its `data` install path).
  local share="$WORK/venv/share" f
  for f in man/man1/drift.1 bash-completion/completions/drift zsh/site-functions/_drift \
    fish/vendor_completions.d/drift.fish drift/completions/_drift.ps1; do
    [ -s "$share/$f" ] || fail "the wheel installed no $share/$f"
  done
  bash -n "$share/bash-completion/completions/drift" || fail "the installed bash completion is not valid bash"
  grep -q '^#compdef drift' "$share/zsh/site-functions/_drift" || fail "the installed zsh completion has no #compdef"
  if command -v man >/dev/null 2>&1; then
    # man-db maps each PATH entry DIR/bin to DIR/share/man: with the venv on PATH, `man drift` finds its page.
    local found
    found="$(env -i PATH="$WORK/venv/bin:/usr/bin:/bin" man -w drift 2>&1)" || true
    [ "$found" = "$share/man/man1/drift.1" ] || fail "man -w drift found '$found', not the venv's page"
    for f in "$share"/man/man1/*.1; do
      MANWIDTH=80 man -l "$f" >/dev/null 2>"$WORK/man.err" || fail "man -l $f failed: $(cat "$WORK/man.err")"
    done
    echo "ci-wheel-check.sh: $(find "$share/man/man1" -name '*.1' | wc -l) man pages render; man drift finds $found" >&2
  else
    echo "ci-wheel-check.sh: man not installed; the man page lookup was not checked" >&2
  fi
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
step metadata metadata
step install install_wheel
step lookup lookup
step help help_check
if [ "$SKIP_SANDBOX" = 0 ]; then step sandbox sandbox; fi
finish
