#!/usr/bin/env bash
# Renders every PDF under OLD and its namesake under NEW with poppler's pdftoppm and compares
# the pages pixel for pixel (ARCHITECTURE.md, "PDF and page throughput"):
#
#   .ci/compare-builds.sh OLD_BIN /tmp/old && .ci/compare-builds.sh NEW_BIN /tmp/new
#   .ci/compare-pixels.sh /tmp/old /tmp/new [DPI]     # DPI: 72 unless given
#
# Prints each PDF whose page count differs or whose first differing page is found, then a
# total; exits 1 if any differs. A change that should not change what a reader sees (a faster
# writer, another compression level) must print "0 differ".
set -u
old=$1
new=$2
dpi=${3:-72}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
bad=0
pages=0
while IFS= read -r f; do
  rel=${f#"$old"/}
  n=$((n + 1))
  rm -f "$tmp"/a-* "$tmp"/b-*
  pdftoppm -r "$dpi" "$old/$rel" "$tmp/a" 2>/dev/null
  pdftoppm -r "$dpi" "$new/$rel" "$tmp/b" 2>/dev/null
  na=$(find "$tmp" -name 'a-*' | wc -l)
  nb=$(find "$tmp" -name 'b-*' | wc -l)
  pages=$((pages + na))
  if [ "$na" != "$nb" ] || [ "$na" = 0 ]; then
    echo "page count differs: $rel ($na, $nb)"
    bad=$((bad + 1))
    continue
  fi
  for p in "$tmp"/a-*; do
    q=$tmp/b-${p#"$tmp"/a-}
    if ! cmp -s "$p" "$q"; then
      echo "pixels differ: $rel page ${p#"$tmp"/a-}"
      bad=$((bad + 1))
      break
    fi
  done
done < <(find "$old" -name '*.pdf' | sort)
echo "compared $n PDFs, $pages pages at $dpi dpi: $bad differ"
[ "$bad" = 0 ]
