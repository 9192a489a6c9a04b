#!/usr/bin/env bash
# Builds drift-launcher.jar for Databricks `spark_jar_task`s (no Python on the cluster): the class drift.Launcher,
# compiled with the JDK's javac for Java 8, plus the static Linux drift binary as a resource, and that binary's man
# pages and shell completions (scripts/cli-docs.sh) under drift/docs/ in the jar: drift/docs/drift.1 (and
# drift-<command>.1), drift/docs/completions/{drift.bash,_drift,drift.fish,_drift.ps1,drift.elv}. Read one with
# `unzip -p drift-launcher.jar drift/docs/drift.1 | man -l -`.
#
#   scripts/build-jar.sh [--out DIR] [--binary PATH]     (default DIR: dist/)
#
# Without --binary it builds the static binary first (scripts/build-static.sh). Prints `JAR <path>` and
# `JAR_BYTES <n>` on stdout; progress on stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)"
OUT="$ROOT/dist"
BINARY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --binary) BINARY="$2"; shift 2 ;;
    *) echo "build-jar.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

fail() { echo "build-jar.sh: $*" >&2; exit 1; }
for tool in javac jar; do
  command -v "$tool" >/dev/null || fail "$tool not found; install a JDK (apt-get install default-jdk-headless)"
done

if [ -z "$BINARY" ]; then
  BINARY="$("$ROOT/scripts/build-static.sh" --out "$OUT" | sed -n 's/^STATIC //p')"
fi
[ -x "$BINARY" ] || fail "no executable drift binary at '$BINARY'"
version="$("$BINARY" --version | awk '{print $2}')"
[ -n "$version" ] || fail "$BINARY --version printed no version"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/classes/drift/bin"
# Java 8 bytecode: the oldest JVM a Databricks LTS runtime still runs.
javac --release 8 -Xlint:all -Werror -d "$work/classes" "$ROOT/jvm/src/drift/Launcher.java" >&2
cp "$BINARY" "$work/classes/drift/bin/drift-x86_64-unknown-linux-musl"
"$ROOT/scripts/cli-docs.sh" "$BINARY" "$work/docs" >/dev/null
mkdir -p "$work/classes/drift/docs"
cp "$work"/docs/man/*.1 "$work/classes/drift/docs/"
cp -r "$work/docs/completions" "$work/classes/drift/docs/completions"
cat > "$work/MANIFEST.MF" <<EOF
Main-Class: drift.Launcher
Implementation-Title: drift
Implementation-Version: $version
EOF
jar="$OUT/drift-launcher.jar"
rm -f "$jar"
(cd "$work" && jar cfm "$jar" MANIFEST.MF -C classes .) >&2
listing="$(jar tf "$jar")"
for f in drift/docs/drift.1 drift/docs/completions/drift.bash drift/docs/completions/_drift \
  drift/docs/completions/drift.fish drift/docs/completions/_drift.ps1; do
  grep -qx "$f" <<<"$listing" || fail "$jar has no $f"
done
echo "build-jar.sh: built $jar (drift $version)" >&2
echo "JAR $jar"
echo "JAR_BYTES $(stat -c %s "$jar")"
