#!/usr/bin/env bash
# Benchmarks for docs/performance.md (measurements, not tests): startup, registrator end to end, retrainer plan
# over 100,000 jobs against drift, a bare HTTP walk and the official Python SDK, polling, and many tables (one
# drift process per table, in sequence and all at once). The drift measured is the shipped build: the `dist`
# Cargo profile (fat LTO, one codegen unit), target/dist/drift.
#
#   scripts/bench.sh [--no-sdk]
#
# Installs hyperfine/time via apt when missing and azure-ai-ml into .ci/cache/bench-venv (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

SDK=1
[ "${1:-}" = "--no-sdk" ] && SDK=0

for tool in hyperfine /usr/bin/time; do
  command -v "$tool" >/dev/null || apt-get install -y hyperfine time >/dev/null
done
cargo build --profile dist --bins
export DRIFT_BENCH_BIN="$PWD/target/dist/drift"
if [ "$SDK" = 1 ]; then
  venv=.ci/cache/bench-venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/python" -c 'import azure.ai.ml' 2>/dev/null || "$venv/bin/pip" install --quiet azure-ai-ml
  export DRIFT_BENCH_PYTHON="$PWD/$venv/bin/python"
  "$venv/bin/pip" show azure-ai-ml | sed -n 's/^Version: /azure-ai-ml /p'
fi

echo "### Startup"
hyperfine -N --warmup 20 --runs 200 --export-markdown .ci/cache/startup.md \
  'target/dist/drift --version' \
  'target/dist/drift validate --config examples/registrator.yaml' >/dev/null
cat .ci/cache/startup.md
echo "dist binary: $(stat -c %s target/dist/drift) bytes"

cargo bench --bench pipelines
