#!/usr/bin/env bash
# Renders a `--report` page in headless Chromium (Debian's `chromium` package) and checks
# that the browser shows it: the sections are in the rendered DOM and the hostile text of
# the corpus stays text (no <script> element). Then saves a screenshot.
#
#   scripts/report_screenshot.sh                  screenshot to docs/report.png
#   scripts/report_screenshot.sh /tmp/report.png  elsewhere (what .ci/run does)
#
# Uses ${CARGO_TARGET_DIR:-target}/debug/simdedup (build it first: cargo build).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-docs/report.png}
BIN=${SIMDEDUP:-${CARGO_TARGET_DIR:-target}/debug/simdedup}
BIN=$(realpath "$BIN")
BROWSER=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$BROWSER" ]; then
    echo "report_screenshot: no chromium on PATH (apt-get install -y chromium)" >&2
    exit 2
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# A synthetic corpus (8% near copies, 2% exact) with one hostile pair: 300 documents for
# the check (the pair is then among the borderline ones shown), 3,000 for the screenshot.
HOSTILE="a note <script>alert(1)</script> that closes </textarea> and goes on for a while"
page() {
    python3 scripts/make_files.py --docs "$1" --out "$WORK/c$1" > /dev/null
    printf '%s with these words one two three four five\n' "$HOSTILE" > "$WORK/c$1/hostile-a.txt"
    printf '%s with these words one two three four six\n' "$HOSTILE" > "$WORK/c$1/hostile-b.txt"
    (cd "$WORK" && "$BIN" "c$1" --report "r$1.html" -q > /dev/null)
}
page 300
page 3000

# Chromium runs as root only without its sandbox (CI containers); the page has no script.
FLAGS=(--headless --disable-gpu --no-sandbox --hide-scrollbars)
"$BROWSER" "${FLAGS[@]}" --dump-dom "file://$WORK/r300.html" 2> /dev/null > "$WORK/dom.html"
for section in histogram thresholds borderline clusters facts; do
    grep -q "id=\"$section\"" "$WORK/dom.html" || { echo "report_screenshot: no #$section in the rendered page" >&2; exit 1; }
done
if grep -q "<script" "$WORK/dom.html"; then
    echo "report_screenshot: a <script> element reached the rendered page" >&2
    exit 1
fi
grep -q "&lt;script&gt;alert(1)&lt;/script&gt;" "$WORK/dom.html" ||
    { echo "report_screenshot: the hostile text is not shown as text" >&2; exit 1; }
"$BROWSER" "${FLAGS[@]}" --screenshot="$WORK/shot.png" --window-size=1200,2000 \
    "file://$WORK/r3000.html" 2> /dev/null > /dev/null
mv "$WORK/shot.png" "$OUT"
echo "report_screenshot: rendered in $("$BROWSER" --version 2>/dev/null | head -1); screenshot $OUT"
