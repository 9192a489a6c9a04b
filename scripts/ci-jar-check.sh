#!/usr/bin/env bash
# CI check of the JVM launcher jar for Databricks spark_jar_tasks (.ci/run calls it). Steps, each timed:
#   1 jar        scripts/build-jar.sh (static musl binary + drift.Launcher, javac --release 8)
#   2 docs       the jar carries the binary's man pages and completions under drift/docs/, and every page renders;
#                when step 1 ran, the static tarball beside it holds drift, drift.1, completions/, README.md and
#                LICENSE, and its drift is the jar's
#   3 help       java -cp drift-launcher.jar drift.Launcher --help
#   4 api        jvm/test/drift/LauncherCheck.java: extracted once, 0700, exceptions carry code, meaning and
#                stderr, a drift killed by SIGKILL reads as such, and the extraction falls back past an unusable
#                DRIFT_BINARY_DIR and a java.io.tmpdir on a real noexec tmpfs (mounted when run as root;
#                DRIFT_REQUIRE_NOEXEC=1 fails the step if it cannot be mounted) and fails naming every place
#   5 sandbox    registrator, then retrainer without --data_asset_version (a JAR task has no task values: it
#                resolves the newest common version itself), both through the jar against drift-sandbox seeded
#                from tests/fixtures/deploy/seed.json, credentials in the environment as spark_env_vars set them
#
#   scripts/ci-jar-check.sh [--jar PATH] [--skip-sandbox]
#
# --jar reuses a built jar (skips step 1). The sandbox comes from $DRIFT_SANDBOX_BIN or is built with cargo
# (debug profile, CARGO_TARGET_DIR honoured). Ends with `jar checks: N passed, 0 failed`.
set -Eeuo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
JAR=""
SKIP_SANDBOX=0
while [ $# -gt 0 ]; do
  case "$1" in
    --jar) JAR="$(readlink -f "$2")"; shift 2 ;;
    --skip-sandbox) SKIP_SANDBOX=1; shift ;;
    *) echo "ci-jar-check.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
FIXTURES="$ROOT/tests/fixtures/deploy"
TENANT=7d1c5a3e-0b2f-4e6d-9a8c-1f2e3d4c5b6a
CLIENT_ID=3b9e2f41-6c7d-4a8b-9e0f-1a2b3c4d5e6f
CLIENT_SECRET='deploy-check~not-a-real-secret'

CHECK=jar
# shellcheck source=scripts/check-lib.sh
source "$ROOT/scripts/check-lib.sh"

# The build's stdout is echoed to our inherited stderr (not `tee /dev/stderr`, which reopens a log file truncated).
build_jar() { local out; out="$("$ROOT/scripts/build-jar.sh" --out "$WORK/dist")"; printf '%s\n' "$out" >&2; JAR="$(printf '%s\n' "$out" | sed -n 's/^JAR //p')"; }

# The JVM in a clean environment plus NAME=VALUE arguments, as a cluster's spark_env_vars would set them.
launcher() { env -i PATH=/usr/bin:/bin HOME="$WORK" LANG=C.UTF-8 "$@"; }

docs_check() {
  local listing f
  listing="$(jar tf "$JAR")"
  for f in drift/docs/drift.1 drift/docs/completions/drift.bash drift/docs/completions/_drift \
    drift/docs/completions/drift.fish drift/docs/completions/_drift.ps1 drift/docs/completions/drift.elv; do
    grep -qx "$f" <<<"$listing" || fail "the jar has no $f"
  done
  mkdir -p "$WORK/jar-docs"
  (cd "$WORK/jar-docs" && jar xf "$JAR" drift/docs)
  bash -n "$WORK/jar-docs/drift/docs/completions/drift.bash" || fail "the jar's bash completion is not valid bash"
  if command -v man >/dev/null 2>&1; then
    for f in "$WORK"/jar-docs/drift/docs/*.1; do
      MANWIDTH=80 man -l "$f" >/dev/null 2>"$WORK/man.err" || fail "man -l $f failed: $(cat "$WORK/man.err")"
    done
  fi
  # The tarball build-static.sh wrote beside the jar in step 1 (absent when --jar reused a built jar).
  local tarballs=("$WORK"/dist/drift-*-x86_64-unknown-linux-musl.tar.gz)
  if [ -e "${tarballs[0]}" ]; then
    local tarball="${tarballs[0]}" name
    name="$(basename "$tarball" .tar.gz)"
    listing="$(tar -tzf "$tarball")"
    for f in drift drift.1 completions/drift.bash completions/_drift completions/drift.fish completions/_drift.ps1 \
      completions/drift.elv README.md LICENSE; do
      grep -qx "$name/$f" <<<"$listing" || fail "$(basename "$tarball") has no $name/$f"
    done
    mkdir -p "$WORK/tarball"
    tar -xzf "$tarball" -C "$WORK/tarball"
    (cd "$WORK/jar-docs" && jar xf "$JAR" drift/bin/drift-x86_64-unknown-linux-musl)
    cmp -s "$WORK/tarball/$name/drift" "$WORK/jar-docs/drift/bin/drift-x86_64-unknown-linux-musl" \
      || fail "the tarball's drift is not the jar's"
    echo "ci-jar-check.sh: $(basename "$tarball"): $(wc -l <<<"$listing") entries" >&2
  fi
}

help_check() {
  local out
  out="$(launcher java -cp "$JAR" drift.Launcher --help)"
  grep -q 'Usage: drift' <<<"$out" || fail "drift.Launcher --help printed no usage:
$out"
  grep -q 'Exit codes:' <<<"$out" || fail "drift.Launcher --help has no exit-code table"
}

api_check() {
  mkdir -p "$WORK/check"
  javac --release 8 -Xlint:all -Werror -cp "$JAR" -d "$WORK/check" "$ROOT/jvm/test/drift/LauncherCheck.java"
  launcher DRIFT_REQUIRE_NOEXEC="${DRIFT_REQUIRE_NOEXEC:-}" java -cp "$JAR:$WORK/check" drift.LauncherCheck \
    "$WORK/launcher-check"
}

# Usage: jar_task NAME PARAMETERS...; the report (last stdout line) lands in $WORK/NAME.json.
jar_task() {
  local name="$1"
  shift
  launcher "${SANDBOX_ENV[@]}" AZURE_CLIENT_ID="$CLIENT_ID" AZURE_CLIENT_SECRET="$CLIENT_SECRET" \
    AZURE_TENANT_ID="$TENANT" java -cp "$JAR" drift.Launcher "$@" --output json >"$WORK/$name.stdout" \
    || fail "$name through the jar exited non-zero"
  tail -n1 "$WORK/$name.stdout" >"$WORK/$name.json"
}

report() { python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/$1.json" "$2"; }

sandbox() {
  start_sandbox
  jar_task register --config "$FIXTURES/registrator.yaml"
  [ "$(report register "r['outcome']")" = registered ] || fail "the registrator did not register: $(cat "$WORK/register.json")"
  local version
  version="$(report register "r['task_values']['data_asset_version']")"
  jar_task retrain --config "$FIXTURES/retrainer.yaml"
  [ "$(report retrain "r['outcome']")" = completed ] || fail "the retrainer did not complete: $(cat "$WORK/retrain.json")"
  [ "$(report retrain "r['details']['targetVersion']")" = "$version" ] \
    || fail "the retrainer did not resolve the registrator's version $version: $(cat "$WORK/retrain.json")"
  [ "$(report retrain "r['details']['targetSource']")" != flag ] || fail "the version came from a flag"
  echo "ci-jar-check.sh: the retrainer resolved data version $version itself and retrained $(report retrain \
    "len(r['details']['groups'])") groups" >&2
}

if [ -z "$JAR" ]; then step jar build_jar; fi
step docs docs_check
step help help_check
step api api_check
if [ "$SKIP_SANDBOX" = 0 ]; then step sandbox sandbox; fi
finish
