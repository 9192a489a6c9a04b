#!/usr/bin/env bash
# Builds the Databricks wheel: the `drift` binary linked by zig against glibc 2.17 (manylinux2014, so it runs on
# every Databricks LTS runtime) plus the Python shim, then checks what was built.
#
#   scripts/build-wheel.sh [--out DIR]        (default DIR: dist/)
#
# Checks: one wheel, tagged manylinux_2_17_x86_64 / manylinux2014_x86_64; it carries the `drift` binary and no
# Rust `spark_job` binary; `spark_job` is an entry point of drift._databricks:spark_job; the binary needs no GLIBC
# symbol newer than 2.17 (objdump -T). Prints `WHEEL <path>`, `WHEEL_TAG`, `GLIBC_MAX`, `BINARY_BYTES` and
# `WHEEL_BYTES` lines on stdout; progress on stderr. Tools come from PyPI via scripts/deploy-tools.sh; the Rust
# toolchain is the machine's. CARGO_TARGET_DIR is honoured (default: target/).
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
OUT="$ROOT/dist"
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    *) echo "build-wheel.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

TOOLS="$("$ROOT/scripts/deploy-tools.sh")"
# maturin finds zig as `python3 -m ziglang`, so the venv's python must come first on PATH.
export PATH="$TOOLS:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

fail() { echo "build-wheel.sh: $*" >&2; exit 1; }

rm -f "$OUT"/drift-*.whl
started=$(date +%s)
(cd "$ROOT" && maturin build --release --locked --zig --compatibility manylinux2014 --out "$OUT" >&2)
echo "build-wheel.sh: maturin took $(( $(date +%s) - started )) s" >&2

shopt -s nullglob
wheels=("$OUT"/drift-*.whl)
[ "${#wheels[@]}" -eq 1 ] || fail "expected one wheel in $OUT, found ${#wheels[@]}"
wheel="${wheels[0]}"
tag="$(basename "$wheel" .whl | cut -d- -f3-)"
platforms="$(tr '.' '\n' <<<"${tag#py3-none-}" | LC_ALL=C sort | tr '\n' ' ')"
if [ "${tag#py3-none-}" = "$tag" ] || [ "$platforms" != "manylinux2014_x86_64 manylinux_2_17_x86_64 " ]; then
  fail "unexpected wheel tag $tag (want py3-none- with manylinux2014_x86_64 and manylinux_2_17_x86_64)"
fi

listing="$(python3 -m zipfile -l "$wheel")"
grep -Eq '^drift-[^/]+\.data/scripts/drift ' <<<"$listing" || fail "the wheel has no drift binary:
$listing"
if grep -Eq '^drift-[^/]+\.data/scripts/spark_job ' <<<"$listing"; then
  fail "the wheel carries a Rust spark_job binary, which collides with the shim's spark_job launcher. Gate the
[[bin]] spark_job target behind the spark-job-bin feature in Cargo.toml (required-features, see docs/deploy-databricks.md)."
fi

unpacked="$(mktemp -d)"
trap 'rm -rf "$unpacked"' EXIT
python3 -m zipfile -e "$wheel" "$unpacked"
entry_points="$(cat "$unpacked"/drift-*.dist-info/entry_points.txt)"
grep -Eq '^spark_job ?= ?drift\._databricks:spark_job$' <<<"$entry_points" \
  || fail "no spark_job entry point in entry_points.txt:
$entry_points"

binary="$(echo "$unpacked"/drift-*.data/scripts/drift)"
# The highest versioned GLIBC symbol the binary imports; manylinux2014 allows up to 2.17.
glibc_max="$(objdump -T "$binary" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -uV | tail -n1)"
[ -n "$glibc_max" ] || fail "objdump -T found no GLIBC symbol versions in the binary"
[ "$(printf '%s\n2.17\n' "$glibc_max" | sort -V | tail -n1)" = "2.17" ] \
  || fail "the binary needs GLIBC_$glibc_max, newer than manylinux2014's 2.17"
chmod +x "$binary"
"$binary" --version >&2

echo "WHEEL $wheel"
echo "WHEEL_TAG $tag"
echo "GLIBC_MAX $glibc_max"
echo "BINARY_BYTES $(stat -c %s "$binary")"
echo "WHEEL_BYTES $(stat -c %s "$wheel")"
