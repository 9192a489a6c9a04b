#!/usr/bin/env bash
# Builds the fully static Linux binary (x86_64-unknown-linux-musl): no glibc, no loader, runs on any x86_64 Linux.
# It is the artifact for users outside Databricks (CI runners, Airflow workers, cron hosts, containers) and the
# binary inside the JVM launcher jar (scripts/build-jar.sh).
#
#   scripts/build-static.sh [--out DIR] [--demo]     (default DIR: dist/)
#
# --demo keeps `drift demo` (the in-process sandbox) in the binary; without it the binary matches the wheel's.
# Needs the Rust target (`rustup target add x86_64-unknown-linux-musl`, done here when rustup is present) and a C
# compiler for musl (ring compiles C): Debian's musl-tools (`musl-gcc`) when installed, else zig from PyPI through
# cargo-zigbuild (scripts/deploy-tools.sh). Prints `STATIC <path>` and `STATIC_BYTES <n>` on stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
TARGET=x86_64-unknown-linux-musl
OUT="$ROOT/dist"
FEATURES=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --demo) FEATURES=(--features demo); shift ;;
    *) echo "build-static.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

fail() { echo "build-static.sh: $*" >&2; exit 1; }

if ! rustc --print target-libdir --target "$TARGET" >/dev/null 2>&1 \
  || [ ! -d "$(rustc --print target-libdir --target "$TARGET")" ]; then
  command -v rustup >/dev/null || fail "the Rust target $TARGET is missing and rustup is not available to add it"
  rustup target add "$TARGET" >&2
fi

started=$(date +%s)
cargo_args=(--release --locked --target "$TARGET" --no-default-features "${FEATURES[@]}" --bin drift)
if command -v musl-gcc >/dev/null 2>&1; then
  echo "build-static.sh: C code compiled with musl-gcc" >&2
  (cd "$ROOT" && CC_x86_64_unknown_linux_musl=musl-gcc cargo build "${cargo_args[@]}" >&2)
else
  echo "build-static.sh: musl-gcc not found; linking with zig (cargo-zigbuild)" >&2
  TOOLS="$("$ROOT/scripts/deploy-tools.sh")"
  (cd "$ROOT" && PATH="$TOOLS:$PATH" cargo-zigbuild zigbuild "${cargo_args[@]}" >&2)
fi
echo "build-static.sh: cargo took $(( $(date +%s) - started )) s" >&2

built="$CARGO_TARGET_DIR/$TARGET/release/drift"
# Static means no program interpreter (dynamic loader) and no shared-library dependencies.
if readelf -l "$built" | grep -q 'Requesting program interpreter' || readelf -d "$built" | grep -q NEEDED; then
  fail "$built is not statically linked"
fi
"$built" --version >&2
dest="$OUT/drift-$TARGET"
cp "$built" "$dest"
echo "STATIC $dest"
echo "STATIC_BYTES $(stat -c %s "$dest")"
