#!/usr/bin/env bash
# Runs Azurite's Blob service on 127.0.0.1 for drift's storage tests (tests/azurite_storage.rs, .ci/run).
#
#   scripts/azurite.sh [--port N] [--until-stdin-closes] [--install-only]
#
# Installs azurite@$AZURITE_VERSION (default 3.35.0: runs on Node 20 without an engines warning) into
# .ci/cache/azurite when missing, starts `azurite-blob` in memory, waits until it answers, then prints one line
#   AZURITE_READY http://127.0.0.1:PORT/devstoreaccount1 seconds=S
# on stdout and keeps running: until Azurite exits, or with --until-stdin-closes until its stdin reaches EOF (the
# test binary holds that pipe, so Azurite dies with the tests even when they crash). Progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
VERSION="${AZURITE_VERSION:-3.35.0}"
PREFIX="${AZURITE_PREFIX:-$ROOT/.ci/cache/azurite}"
PORT=10000
UNTIL_STDIN_CLOSES=0
INSTALL_ONLY=0
# Azurite is ready in 4–16 s here; a cold start on a loaded CI machine gets ample margin.
READY_TIMEOUT_SECONDS="${AZURITE_READY_TIMEOUT:-90}"

while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --until-stdin-closes) UNTIL_STDIN_CLOSES=1; shift ;;
    --install-only) INSTALL_ONLY=1; shift ;;
    *) echo "azurite.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

started=$(date +%s)
BIN="$PREFIX/node_modules/.bin/azurite-blob"
installed_version() {
  sed -n 's/^  "version": "\(.*\)",$/\1/p' "$PREFIX/node_modules/azurite/package.json" 2>/dev/null | head -n1
}
if [ ! -x "$BIN" ] || [ "$(installed_version)" != "$VERSION" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "azurite.sh: npm not found; install Node.js 20 and npm (apt-get install nodejs npm) to run Azurite" >&2
    exit 3
  fi
  echo "azurite.sh: installing azurite@$VERSION into $PREFIX" >&2
  npm install --prefix "$PREFIX" --no-audit --no-fund --loglevel=error "azurite@$VERSION" >&2
  echo "azurite.sh: installed in $(( $(date +%s) - started )) s" >&2
fi
[ "$INSTALL_ONLY" = 1 ] && exit 0

WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/azurite.XXXXXX")"
cd "$WORKDIR"
# Started inside a scratch directory: nothing persists (in memory), but Azurite may still write a debug file.
"$BIN" --blobHost 127.0.0.1 --blobPort "$PORT" --inMemoryPersistence \
  --disableTelemetry --skipApiVersionCheck --loose --silent >&2 &
AZURITE_PID=$!
cleanup() {
  kill "$AZURITE_PID" 2>/dev/null || true
  wait "$AZURITE_PID" 2>/dev/null || true
  rm -rf "$WORKDIR"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# Any HTTP answer means it is serving (an unauthenticated list answers 403).
deadline=$(( $(date +%s) + READY_TIMEOUT_SECONDS ))
answers() {
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/devstoreaccount1?comp=list" || true)" != "000" ]
}
until answers; do
  if ! kill -0 "$AZURITE_PID" 2>/dev/null; then
    echo "azurite.sh: azurite-blob exited before answering (port $PORT taken?)" >&2
    exit 1
  fi
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "azurite.sh: azurite-blob did not answer on port $PORT within $READY_TIMEOUT_SECONDS s" >&2
    exit 1
  fi
  sleep 0.2
done
echo "AZURITE_READY http://127.0.0.1:$PORT/devstoreaccount1 seconds=$(( $(date +%s) - started ))"

if [ "$UNTIL_STDIN_CLOSES" = 1 ]; then
  cat >/dev/null || true
else
  wait "$AZURITE_PID"
fi
