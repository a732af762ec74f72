#!/usr/bin/env python3
"""Masks, in place, what no build controls in the outputs that the collect and deliver
comparison tests copy (ALIAUDIT_COMPARE_OUT): wall-clock times and dates, durations,
127.0.0.1 ports, MIME boundaries and temporary folder names. Then two builds' copies can be
compared with `diff -r`. Usage: compare-mask.py DIR..."""
import os
import re
import sys

RULES = [
    (re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"), b"<TIME>"),
    (re.compile(rb"^Date: .*$", re.M), b"Date: <DATE>"),
    (re.compile(rb"127\.0\.0\.1:\d+"), b"127.0.0.1:<PORT>"),
    (re.compile(rb"localhost:\d+"), b"localhost:<PORT>"),
    (re.compile(rb'boundary="[^"]+"'), b'boundary="<B>"'),
    (re.compile(rb"^--[A-Za-z0-9]{30,}(--)?\r?$", re.M), b"--<B>"),
    (re.compile(rb"/tmp/\.tmp[A-Za-z0-9]+"), b"/tmp/<TMP>"),
    (re.compile(rb"\b\d+(\.\d+)?\s?(ms|s)\b"), b"<DURATION>"),
    (re.compile(rb'"(elapsed|duration)[a-z_]*":\s*[0-9.]+'), b'"\\1":<N>'),
]

for top in sys.argv[1:]:
    for root, _, files in os.walk(top):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                data = f.read()
            masked = data
            for pattern, replacement in RULES:
                masked = pattern.sub(replacement, masked)
            if masked != data:
                with open(path, "wb") as f:
                    f.write(masked)
