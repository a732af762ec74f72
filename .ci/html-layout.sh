#!/usr/bin/env bash
# Where Chromium's main thread spends its time opening one HTML page (headless, 1280x900):
#
#   .ci/html-layout.sh OUT/accounts/some-account.html
#
# Prints the milliseconds and count of each main-thread trace event that matters for opening
# a page (layout, style, parsing, paint, script), from Chromium's own trace. ARCHITECTURE.md
# ("PDF and page throughput") gives the figures for the largest page of a 60 x 300 run.
set -euo pipefail
page=$(realpath "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trace=$dir/trace.json
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome)
timeout 60 "$browser" --headless=new --no-sandbox --disable-gpu \
  --trace-startup="devtools.timeline,blink,loading" --trace-startup-format=json \
  --trace-startup-file="$trace" --trace-startup-duration=6 \
  --screenshot="$dir/shot.png" --window-size=1280,900 "file://$page" >/dev/null 2>&1 || true
python3 - "$trace" <<'PY'
import collections, json, sys
text = open(sys.argv[1], errors="replace").read().rstrip()
if not text.endswith("}"):
    text = text.rstrip(",") + "]}"
events = json.loads(text)
events = events["traceEvents"] if isinstance(events, dict) else events
names = {"Layout", "UpdateLayoutTree", "ParseHTML", "ParseAuthorStyleSheet", "PrePaint",
         "Paint", "EvaluateScript", "FunctionCall"}
total, count = collections.Counter(), collections.Counter()
for e in events:
    if e.get("ph") == "X" and e.get("name") in names and "dur" in e:
        total[e["name"]] += e["dur"]
        count[e["name"]] += 1
for name, us in total.most_common():
    print(f"{us / 1000:8.1f} ms {count[name]:4d}x {name}")
PY
