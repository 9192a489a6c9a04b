# Shared by scripts/ci-wheel-check.sh and scripts/ci-jar-check.sh (sourced, not run): a work directory cleaned up
# on exit, timed steps with a failure summary, and a drift-sandbox started from tests/fixtures/deploy/seed.json.
# The caller sets CHECK (its name, e.g. "wheel"), ROOT and FIXTURES before sourcing.
# shellcheck shell=bash

WORK="$(mktemp -d)"
SANDBOX_PID=""
cleanup() {
  if [ -n "$SANDBOX_PID" ]; then kill "$SANDBOX_PID" 2>/dev/null || true; wait "$SANDBOX_PID" 2>/dev/null || true; fi
  # A check that died with a mount under $WORK (LauncherCheck's noexec tmpfs) must not make rm -rf fail on it.
  local mounted
  mounted="$(awk -v w="$WORK/" 'index($2, w) == 1 {print $2}' /proc/self/mounts 2>/dev/null | sort -r)"
  for m in $mounted; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

PASSED=0
CURRENT=""
SUMMARY=""
on_error() { echo "$CHECK checks: step '$CURRENT' failed; $PASSED passed, 1 failed" >&2; }
trap on_error ERR

# Usage: step NAME COMMAND...; runs the command, counts and times it.
step() {
  CURRENT="$1"
  shift
  echo "== ci-$CHECK-check: $CURRENT" >&2
  local t0=$SECONDS
  "$@"
  PASSED=$((PASSED + 1))
  SUMMARY+="  $CURRENT: $((SECONDS - t0)) s"$'\n'
}

fail() { echo "ci-$CHECK-check.sh: $*" >&2; return 1; }

# Prints the per-step times and the final count line.
finish() {
  trap - ERR
  printf 'ci-%s-check.sh: seconds per step:\n%s' "$CHECK" "$SUMMARY" >&2
  echo "$CHECK checks: $PASSED passed, 0 failed"
}

# Starts drift-sandbox ($DRIFT_SANDBOX_BIN, else built with cargo) and fills SANDBOX_ENV with its endpoint
# overrides as NAME=VALUE arguments for env.
start_sandbox() {
  local bin="${DRIFT_SANDBOX_BIN:-}"
  if [ -z "$bin" ]; then
    (cd "$ROOT" && cargo build --locked -p drift-sandbox --bin drift-sandbox >&2)
    bin="$CARGO_TARGET_DIR/debug/drift-sandbox"
  fi
  "$bin" --port 0 --seed "$FIXTURES/seed.json" >"$WORK/sandbox.out" 2>"$WORK/sandbox.err" &
  SANDBOX_PID=$!
  for _ in $(seq 100); do
    grep -q '^export DRIFT_IMDS_ENDPOINT=' "$WORK/sandbox.out" 2>/dev/null && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || fail "drift-sandbox exited: $(cat "$WORK/sandbox.err")"
    sleep 0.1
  done
  # `export NAME=VALUE` or `export NAME='VALUE'` lines → NAME=VALUE arguments for env.
  mapfile -t SANDBOX_ENV < <(sed -n "s/^export \([A-Z_]*\)='\{0,1\}\([^']*\)'\{0,1\}$/\1=\2/p" "$WORK/sandbox.out")
  [ "${#SANDBOX_ENV[@]}" -ge 6 ] || fail "drift-sandbox printed no endpoint overrides: $(cat "$WORK/sandbox.out")"
}
