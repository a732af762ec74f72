#!/usr/bin/env python3
"""Regenerates the embedded font subsets in this folder.

Source: Debian's fonts-noto-cjk (`apt-get install fonts-noto-cjk`), face index 2 of
NotoSansCJK-{Regular,Bold}.ttc, which is Noto Sans CJK SC. Needs fontTools
(`pip install fonttools`). Keeps Latin-1, general punctuation, arrows, a few symbols used in
reports, CJK punctuation, full-width forms and every character of GB2312 (which includes the
6,763 common simplified hanzi). Output: NotoSansCJKsc-{Regular,Bold}-subset.otf.

    python3 fonts/subset.py [/usr/share/fonts/opentype/noto]
"""
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/opentype/noto")
OUT = Path(__file__).resolve().parent


def gb2312() -> set[int]:
    chars = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.update(ord(c) for c in bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def codepoints() -> list[int]:
    keep = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100))
    keep |= set(range(0x2000, 0x2070))  # general punctuation
    keep |= set(range(0x2190, 0x21A0))  # arrows
    keep |= {0x2212, 0x2264, 0x2265, 0x2713, 0x2714, 0x2715, 0x2717, 0x25CF, 0x25CB, 0x25A0,
             0x25A1, 0x25B2, 0x25BC, 0x2022, 0x20AC}
    keep |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation
    keep |= set(range(0xFF00, 0xFFF0))  # full-width forms
    keep |= gb2312()
    return sorted(keep)


def main() -> None:
    unicodes = codepoints()
    for weight in ("Regular", "Bold"):
        font = TTCollection(str(SRC / f"NotoSansCJK-{weight}.ttc")).fonts[2]
        assert "SC" in font["name"].getDebugName(4), font["name"].getDebugName(4)
        options = subset.Options()
        options.layout_features = ["kern", "liga", "locl", "vert", "palt", "halt"]
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = False
        options.desubroutinize = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=unicodes)
        subsetter.subset(font)
        out = OUT / f"NotoSansCJKsc-{weight}-subset.otf"
        font.save(str(out))
        print(f"{out.name}: {out.stat().st_size} bytes, {len(unicodes)} code points requested")


if __name__ == "__main__":
    main()
