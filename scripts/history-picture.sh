#!/usr/bin/env bash
# Regenerates docs/history-demo.png: runs `drift demo`, takes the HTML history page its last step wrote, and
# screenshots it with headless Chromium (Debian package `chromium`). Usage: scripts/history-picture.sh [DRIFT_BIN]
set -euo pipefail
cd "$(dirname "$0")/.."
drift="${1:-target/debug/drift}"
command -v chromium >/dev/null || { echo "needs chromium (apt-get install chromium)" >&2; exit 1; }
page=$("$drift" demo 2>/dev/null | sed -n 's/^The demo workspace.s history, as a web page: //p')
[ -f "$page" ] || { echo "the demo wrote no history page" >&2; exit 1; }
# --no-sandbox: Chromium's sandbox refuses to start as root (CI, containers).
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1200,1120 \
  --screenshot="$PWD/docs/history-demo.png" "file://$page" 2>/dev/null
rm -rf "$(dirname "$page")"
echo "docs/history-demo.png from $page"
