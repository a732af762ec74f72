#!/usr/bin/env python3
"""Fails on any module dependency cycle, or any import that points up the layers, in the crates.

Every `.rs` file of the libraries (`src/` and `crates/*/src/`, read as one tree of modules) is
read: comments and string literals are dropped,
then each `crate::a::b` path, `use crate::{..}` tree, `super::` path and (in a parent module)
each `child::` path is resolved to the module it names. Top-level modules are nodes; the
submodules of the packages in SPLIT are nodes of their own (`render::pdf`), and a package's
`mod.rs` is the node of the package name. Unit tests inside a module count like its code:
after the split into crates they must still compile.

The intended layering, top to bottom (ARCHITECTURE.md describes it too). A module may use modules
on its own layer or below, never above, and never in a cycle:

   10  lib, cli                 the command line (clap); may use anything; nothing uses cli
    9  commands                 each command as a library function over a validated spec
    8  collect, deliver         HTTP (reqwest) and SMTP (lettre), apart from each other
    7  pages, sample            page writing (views rendered to HTML and PDF); sample evidence
    6  shard, output, outdir,   shard files and merge reading; summary.json, findings.csv,
       ocsf                     manifest; the output folder swap; findings.ocsf.jsonl
    5  render, view, executive, page views, the executive page's facts, the framework
       crosswalk, charts, fonts sections, charts, fonts, HTML and PDF (render/*)
    4  summary                  the summary.json views of a run
    3  pipeline                 the evaluating pipeline and the run types (Run, AccountResult)
    2  trend, aggregate,        baselines and deltas, roll-ups, accepted risks, framework
       exceptions, frameworks,  crosswalks and their roll-ups, the roll-ups of Security
       sas_standards            Center's own standards
    1  rules, branding          evaluation of the controls; branding files
    0  model, ingest, discover, typed accounts, reading evidence, finding account folders,
       evidence                 file records
   -1  i18n, diag, text,        languages and catalogues, diagnostics, text formats, timing,
       timing, atomic, score,   atomic file writes, scores in tenths, file stamps (path and
       stamp, sas_items         SHA-256), the known Security Center check items

Usage: module-cycles.py [--graph] [--src DIR] [--self-test]
  --graph      also print every edge with the files that make it
  --src DIR    check another tree (default: src/ beside .ci/)
  --self-test  check the checker on small trees with known problems
"""

import os
import re
import sys

SRC = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
# The workspace's library crates, read as one tree of modules: module names are unique across
# the crates, so `aliaudit_core::pipeline` is the node `pipeline` wherever it is used. The
# collect and deliver crates are the modules `collect` and `deliver` (their lib.rs the mod.rs).
CRATES = {
    "aliaudit_core": ("core", []),
    "aliaudit_report": ("report", []),
    "aliaudit_collect": ("collect", ["collect"]),
    "aliaudit_deliver": ("deliver", ["deliver"]),
}


def roots():
    """(src folder, module prefix) of every crate read: the package's src/ and crates/*/src."""
    out = [(SRC, [])]
    for name, (folder, prefix) in sorted(CRATES.items()):
        path = os.path.normpath(os.path.join(SRC, "..", "crates", folder, "src"))
        if os.path.isdir(path):
            out.append((path, prefix))
    return out


def as_one_crate(text, prefix):
    """Source whose paths name other crates of the workspace rewritten as `crate::` paths."""
    if prefix:
        text = re.sub(r"(?<![\w:])crate\s*::", "crate::" + "::".join(prefix) + "::", text)
    for name, (_, pre) in CRATES.items():
        text = re.sub(r"(?<![\w:])" + name + r"\b", "::".join(["crate"] + pre), text)
    return text
# Packages whose submodules are nodes of their own.
SPLIT = {"render", "rules", "ingest", "collect", "deliver", "commands"}
# Layer of each top-level module (a submodule of a SPLIT package takes its package's layer).
LAYERS = {
    10: ["lib", "cli"],
    9: ["commands", "project"],
    8: ["collect", "deliver"],
    7: ["pages", "sample"],
    6: ["shard", "output", "outdir", "ocsf"],
    5: ["render", "view", "executive", "crosswalk", "vendor", "charts", "figure", "fonts"],
    4: ["summary"],
    3: ["pipeline"],
    2: ["trend", "aggregate", "exceptions", "frameworks", "theme", "sas_standards"],
    1: ["rules", "branding"],
    0: ["model", "ingest", "discover", "evidence"],
    -1: ["i18n", "diag", "text", "timing", "atomic", "score", "stamp", "sas_items", "zlib"],
}
RANK = {m: r for r, ms in LAYERS.items() for m in ms}
TOP = {"lib", "cli"}
# Modules on one layer that must not use each other: they become separate crates.
APART = [("collect", "deliver")]
# External crates confined to the modules that will own them after the split.
EXTERNAL = {"clap": {"cli"}, "reqwest": {"collect"}, "lettre": {"deliver"}}


def strip(src):
    """Source with comments, string and char literals blanked (lengths kept)."""
    out = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif src.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif src.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c in "rb" and re.match(r"(br|r)#*\"", src[i:i + 40]) and (i == 0 or not (src[i - 1].isalnum() or src[i - 1] == "_")):
            m = re.match(r"(br|r)(#*)\"", src[i:])
            end = '"' + m.group(2)
            j = src.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            j += 1
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif c == "'":
            # A char literal ('a', '\n', '\u{..}') or a lifetime ('a): only the first is blanked.
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", src[i:])
            if m:
                out.append(" " * m.end())
                i += m.end()
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def file_module(path, src=None, prefix=()):
    rel = os.path.relpath(path, src or SRC)[:-3].split(os.sep)
    if rel[-1] == "mod":
        rel = rel[:-1]
    if rel == ["lib"]:
        rel = []
    return list(prefix) + rel


def parse_use_tree(text, i):
    """Parses a use tree at text[i:] into paths (lists of segments). Returns (paths, end)."""
    paths = []
    prefix = []
    while True:
        m = re.match(r"\s*(\w+|\{|\*)", text[i:])
        if not m:
            return ([prefix] if prefix else []), i
        tok = m.group(1)
        i += m.end()
        if tok == "{":
            while True:
                sub, i = parse_use_tree(text, i)
                paths += [prefix + s for s in sub]
                m = re.match(r"\s*(,|\})", text[i:])
                if not m:
                    return paths, i
                i += m.end()
                if m.group(1) == "}":
                    return paths, i
                if re.match(r"\s*\}", text[i:]):
                    i += re.match(r"\s*\}", text[i:]).end()
                    return paths, i
        if tok == "*":
            return [prefix], i
        prefix = prefix + [tok]
        m = re.match(r"\s*::", text[i:])
        if not m:
            m2 = re.match(r"\s*as\s+\w+", text[i:])
            if m2:
                i += m2.end()
            return [prefix], i
        i += m.end()


def resolve(base, segs):
    """Resolves a path's leading `crate`/`super`/`self` against module `base`."""
    mod = list(base)
    out = None
    for k, s in enumerate(segs):
        if s == "crate":
            mod = []
        elif s == "super":
            if not mod:
                return None
            mod = mod[:-1]
        elif s == "self":
            pass
        else:
            out = mod + segs[k:]
            break
    return out if out is not None else mod


def node_of(path, modules):
    """The node that a resolved path names: its longest module prefix, cut to node depth."""
    best = []
    for k in range(len(path), 0, -1):
        if tuple(path[:k]) in modules:
            best = path[:k]
            break
    if not best:
        return "lib"
    if best[0] in SPLIT and len(best) > 1:
        return "::".join(best[:2])
    return best[0]


def scopes(text, base):
    """For each char offset, the module path that code there belongs to (inline `mod x {`)."""
    stack = [(base, None)]  # (modpath, brace depth at which it closes)
    depth = 0
    cur = list(base)
    marks = [(0, list(base))]
    for m in re.finditer(r"\bmod\s+(\w+)\s*\{|\{|\}", text):
        tok = m.group(0)
        if tok.startswith("mod"):
            depth += 1
            cur = cur + [m.group(1)]
            stack.append((cur, depth))
            marks.append((m.end(), cur))
        elif tok == "{":
            depth += 1
        else:
            if stack[-1][1] == depth:
                stack.pop()
                cur = stack[-1][0]
                marks.append((m.end(), cur))
            depth -= 1
    return marks


def scope_at(marks, pos):
    cur = marks[0][1]
    for start, mod in marks:
        if start > pos:
            break
        cur = mod
    return cur


def collect():
    files = []
    for src, prefix in roots():
        for root, _, names in os.walk(src):
            for name in names:
                if name.endswith(".rs") and not (root == SRC and name == "main.rs"):
                    files.append((os.path.normpath(os.path.join(root, name)), src, prefix))
    files.sort()
    modules = {()}
    children = {}
    texts = {}
    for f, src, prefix in files:
        base = file_module(f, src, prefix)
        with open(f, encoding="utf-8") as fh:
            text = as_one_crate(strip(fh.read()), prefix)
        texts[f] = (base, text)
        for k in range(1, len(base) + 1):
            modules.add(tuple(base[:k]))
        marks = scopes(text, base)
        for _, mod in marks:
            modules.add(tuple(mod))
        for m in re.finditer(r"\bmod\s+(\w+)\s*;", text):
            children.setdefault(tuple(scope_at(marks, m.start())), set()).add(m.group(1))
    edges = {}
    outside = {}
    for f, (base, text) in texts.items():
        marks = scopes(text, base)
        src_node = node_of(base, modules) if base else "lib"
        found = []
        for m in re.finditer(r"(?<![\w:])(crate|super|self)\s*::\s*", text):
            here = scope_at(marks, m.start())
            if m.group(1) == "self" and not children.get(tuple(here)):
                continue
            # Re-read from the keyword as a use tree: covers `a::b`, `{a, b::c}` and `*`.
            segs_list, _ = parse_use_tree(text, m.start())
            for segs in segs_list:
                path = resolve(here, segs)
                if path is None:
                    continue
                found.append(path)
        # A parent module names its children without `self::` (`pdf::write`, `use pdf::X`).
        for m in re.finditer(r"(?<![\w:])(\w+)\s*::", text):
            here = tuple(scope_at(marks, m.start()))
            if m.group(1) in children.get(here, ()):
                found.append(list(here) + [m.group(1)])
        for m in re.finditer(r"(?<![\w:])(\w+)\s*::", text):
            krate = m.group(1)
            if krate in EXTERNAL and src_node.split("::")[0] not in EXTERNAL[krate]:
                if tuple(scope_at(marks, m.start()) + [krate]) not in modules:
                    outside.setdefault((src_node, krate), set()).add(os.path.relpath(f, os.path.join(SRC, "..")))
        for path in found:
            dst = node_of(path, modules)
            if dst != src_node:
                edges.setdefault((src_node, dst), set()).add(os.path.relpath(f, os.path.join(SRC, "..")))
    nodes = sorted({node_of(list(m), modules) for m in modules if m} | {"lib"})
    return nodes, edges, outside


def sccs(nodes, adj):
    """Tarjan's strongly connected components, each sorted, in sorted order."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(adj.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return sorted(out)


def rank(node):
    return RANK.get(node.split("::")[0])


def main(argv):
    global SRC
    if "--self-test" in argv:
        return self_test()
    if "--src" in argv:
        SRC = os.path.normpath(os.path.abspath(argv[argv.index("--src") + 1]))
    nodes, edges, outside = collect()
    adj = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
    if "--graph" in argv:
        for (a, b), files in sorted(edges.items()):
            print(f"{a} -> {b}    ({', '.join(sorted(files))})")
    bad = 0
    for comp in sccs(nodes, adj):
        if len(comp) > 1:
            bad += 1
            print(f"module cycle: {' <-> '.join(comp)}")
            for a in comp:
                for b in sorted(adj.get(a, ())):
                    if b in comp:
                        print(f"    {a} -> {b}    ({', '.join(sorted(edges[(a, b)]))})")
    for n in nodes:
        if rank(n) is None:
            bad += 1
            print(f"module {n} has no layer: add it to LAYERS in .ci/module-cycles.py")
    for (a, b), files in sorted(edges.items()):
        ra, rb = rank(a), rank(b)
        if b == "cli" and a not in TOP:
            bad += 1
            print(f"{a} imports cli ({', '.join(sorted(files))}): nothing may import the command line")
        elif ra is not None and rb is not None and rb > ra:
            bad += 1
            print(f"{a} (layer {ra}) imports {b} (layer {rb}), up the layers ({', '.join(sorted(files))})")
    for (a, b), files in sorted(edges.items()):
        pa, pb = a.split("::")[0], b.split("::")[0]
        if (pa, pb) in APART or (pb, pa) in APART:
            bad += 1
            print(f"{a} imports {b} ({', '.join(sorted(files))}): {pa} and {pb} must stay apart")
    for (a, krate), files in sorted(outside.items()):
        bad += 1
        only = ", ".join(sorted(EXTERNAL[krate]))
        print(f"{a} uses the {krate} crate ({', '.join(sorted(files))}): only {only} may")
    if bad:
        print(f"{bad} layering problem(s) in src/")
        return 1
    print(f"no module cycles: {len(nodes)} modules, {len(edges)} imports, every one points down")
    return 0


def self_test():
    """Each small tree must give exactly the problems named (and a clean tree none)."""
    import contextlib
    import io
    import tempfile

    lib = "pub mod cli;\npub mod i18n;\npub mod diag;\npub mod rules;\npub mod render;\n"
    cases = [
        ("clean", {
            "cli.rs": "use crate::rules::X;\nfn f() { crate::render::pdf::go(); }\n",
            "rules.rs": "use crate::{i18n::Lang, diag::{self, D}};\n"
                        "// crate::cli::nothing in a comment\nconst S: &str = \"crate::cli::x\";\n"
                        "const R: &str = r#\"crate::render::\"#;\nfn c() -> char { '\"' }\n"
                        "#[cfg(test)]\nmod tests {\n    use super::*;\n    use super::super::diag::D;\n}\n",
            "render/mod.rs": "pub mod pdf;\npub mod layout;\npub use pdf::go;\n",
            "render/pdf.rs": "use super::layout::W;\nuse crate::rules::X;\n",
            "render/layout.rs": "use clap_like::Thing;\n",
            "i18n.rs": "", "diag.rs": "use crate::i18n::Lang;\n",
        }, []),
        ("cycle", {
            "cli.rs": "", "rules.rs": "", "render/mod.rs": "",
            "i18n.rs": "use crate::{diag::{self, D}};\n",
            "diag.rs": "fn f() { crate::i18n::t(); }\n",
        }, ["module cycle: diag <-> i18n"]),
        ("child cycle", {
            "cli.rs": "", "rules.rs": "", "i18n.rs": "", "diag.rs": "",
            "render/mod.rs": "pub mod pdf;\nfn f() { pdf::go(); }\npub struct S;\n",
            "render/pdf.rs": "use super::S;\n",
        }, ["module cycle: render <-> render::pdf"]),
        ("up and clap", {
            "cli.rs": "", "render/mod.rs": "", "diag.rs": "",
            "i18n.rs": "#[derive(clap::ValueEnum)]\npub enum Lang { En }\n",
            "rules.rs": "use crate::cli::Args;\nuse crate::render::X;\n",
        }, ["rules imports cli", "rules (layer 1) imports render (layer 5)",
            "i18n uses the clap crate"]),
    ]
    failed = 0
    for name, files, expected in cases:
        with tempfile.TemporaryDirectory() as tmp:
            for rel, text in {"lib.rs": lib, **files}.items():
                os.makedirs(os.path.dirname(os.path.join(tmp, rel)), exist_ok=True)
                with open(os.path.join(tmp, rel), "w", encoding="utf-8") as fh:
                    fh.write(text)
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                code = main(["--src", tmp])
            text = out.getvalue()
            problems = [line for line in text.splitlines()
                        if line and not line.startswith("    ") and "problem(s)" not in line
                        and not line.startswith("no module cycles")]
            ok = code == (1 if expected else 0) and len(problems) == len(expected) and all(
                any(line.startswith(e) for line in problems) for e in expected)
            if not ok:
                failed += 1
                print(f"self-test {name}: expected {expected}, got exit {code}:\n{text}")
    print("self-test: " + ("failed" if failed else f"{len(cases)} trees as expected"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
