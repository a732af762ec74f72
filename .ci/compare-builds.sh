#!/usr/bin/env bash
# Runs one aliaudit binary over the samples and every fixture into DEST, so that two builds
# can be compared byte for byte (see ARCHITECTURE.md, "Proving a refactor"):
#
#   .ci/compare-builds.sh OLD_BIN /tmp/old
#   .ci/compare-builds.sh NEW_BIN /tmp/new
#   diff -r /tmp/old /tmp/new
#
# Covers report (English, Chinese, branded, branded Chinese, every framework with OCSF), the
# quarters with exceptions and a baseline, every fixture tree, four shards and their merge, validate, controls and sample.
# What each command printed and its exit code are kept beside its output (temporary paths
# masked). collect and deliver need our servers: see the ignored tests named in ARCHITECTURE.md.
set -uo pipefail
# The binary is run under the name `aliaudit` (a copy beside DEST, removed at the end), so that usage lines
# do not differ by file name.
src_bin=$(realpath "$1")
dest=$(realpath -m "$2")
root=$(cd "$(dirname "$0")/.." && pwd)
# Inputs are named relative to the checkout, so that two checkouts give the same pages.
fx=tests/fixtures
rm -rf "$dest" "$dest.bin"
mkdir -p "$dest" "$dest.bin"
cp "$src_bin" "$dest.bin/aliaudit"
bin=$dest.bin/aliaudit
cd "$root"

# run NAME ARGS...: runs the binary, keeps stdout, stderr and the exit code under DEST/NAME.
run() {
  local name=$1
  shift
  mkdir -p "$dest/$name.log"
  (cd "${in_dir:-$root}" && "$bin" "$@") >"$dest/$name.log/stdout" 2>"$dest/$name.log/stderr"
  echo $? >"$dest/$name.log/rc"
  sed -i "s#$dest#DEST#g" "$dest/$name.log/stdout" "$dest/$name.log/stderr"
}

asof=(--as-of 2026-09-30)
run samples-en report "${asof[@]}" -o "$dest/samples-en" samples
run samples-zh report "${asof[@]}" --lang zh -o "$dest/samples-zh" samples
run samples-brand report "${asof[@]}" --branding "$fx/branding/branding.toml" \
  -o "$dest/samples-brand" samples
run samples-brand-zh report "${asof[@]}" --lang zh --branding "$fx/branding/embedded.toml" \
  -o "$dest/samples-brand-zh" samples
run samples-noasof report --format json,csv -o "$dest/samples-noasof" samples

q=$fx/quarters
run q2 report --as-of 2026-06-30 --exceptions "$q/exceptions.toml" -o "$dest/q2" "$q/2026-q2"
run q3 report --as-of 2026-09-30 --exceptions "$q/exceptions.toml" --baseline "$dest/q2" \
  -o "$dest/q3" "$q/2026-q3"
run q4zh report --as-of 2026-12-31 --lang zh --exceptions "$q/exceptions.toml" \
  --baseline "$dest/q3" -o "$dest/q4zh" "$q/2026-q4"

for f in quirks malformed layout duplicates hostile cjk collect sas-once sas-standards; do
  run "fx-$f" report "${asof[@]}" -o "$dest/fx-$f" "$fx/$f"
done
run fx-cjk-zh report "${asof[@]}" --lang zh -o "$dest/fx-cjk-zh" "$fx/cjk"
run fx-sas-standards-zh report "${asof[@]}" --lang zh -o "$dest/fx-sas-standards-zh" \
  "$fx/sas-standards"
# Every built-in framework, with findings.csv's requirements column and the OCSF findings.
run samples-frameworks report "${asof[@]}" --format json,csv,ocsf,html,pdf \
  --framework mlps2-l2,mlps2-l3,iso27001-2022,soc2-2017,nist-800-53r5,cis-controls-v8.1 \
  -o "$dest/samples-frameworks" samples

for k in 1 2 3 4; do
  run "shard-$k" report "${asof[@]}" --shard "$k/4" -o "$dest/shard-$k" samples
done
run merged merge -o "$dest/merged" "$dest/shard-1" "$dest/shard-2" "$dest/shard-3" "$dest/shard-4"

run validate-samples validate samples
run validate-malformed validate "$fx/malformed"
run validate-quirks validate "${asof[@]}" "$fx/quirks"
run controls controls
run controls-json controls --format json
# Relative paths inside DEST, so that the pages name the same evidence paths in both runs.
in_dir=$dest run sample sample -o sample --accounts 6 --seed 7
in_dir=$dest run sample-report report "${asof[@]}" -o sample-report sample
rm -rf "$dest.bin"
echo "outputs in $dest"
