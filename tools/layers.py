#!/usr/bin/env python3
"""The shape of the project's src/: which files import which (through `crate::` paths),
the circles among them, and the longest files and functions (test modules left out).

Prints the circles (each with the names that tie it), the files over LONG_FILE lines,
the functions over LONG_FN lines, and last a figure line. Exit 0 when there is no
circle and nothing is over the limits, 1 otherwise.

Usage: python3 tools/layers.py .   (from the project root; REPO defaults to the current directory)
"""
import os
import re
import sys

LONG_FILE = 700  # lines of code, test modules left out
LONG_FN = 100  # lines of one fn, test modules left out

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = sys.argv[1] if len(sys.argv) > 1 else os.getcwd()
SRC = os.path.join(REPO, "src")


def strip_tests(text):
    """The file without its `#[cfg(test)] mod … { … }` blocks (brace matching, strings ignored roughly)."""
    out, i = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{", text):
        if m.start() < i:
            continue
        out.append(text[i:m.start()])
        depth, j = 1, m.end()
        while j < len(text) and depth:
            c = text[j]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            j += 1
        i = j
    out.append(text[i:])
    return "".join(out)


def module_files():
    files = {}
    for d, _, fs in os.walk(SRC):
        for f in fs:
            if f.endswith(".rs"):
                p = os.path.join(d, f)
                rel = os.path.relpath(p, SRC)
                parts = rel[:-3].split(os.sep)
                if parts[-1] in ("mod", "lib", "main"):
                    parts = parts[:-1]
                files[tuple(parts)] = rel
    return files


def resolve(path, files):
    """crate::a::b::c -> the longest module prefix that is a file."""
    parts = tuple(path)
    while parts:
        if parts in files:
            return files[parts]
        parts = parts[:-1]
    return None


def expand_use(body):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e] (enough for module paths)."""
    body = re.sub(r"\s+", "", body)
    def go(prefix, s):
        out, depth, cur = [], 0, ""
        items = []
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                items.append(cur)
                cur = ""
            else:
                cur += ch
        if cur:
            items.append(cur)
        for it in items:
            m = re.match(r"^(.*?)::\{(.*)\}$", it)
            if m:
                out += go(prefix + [p for p in m.group(1).split("::") if p], m.group(2))
            else:
                out.append(prefix + [p for p in it.split("::") if p])
        return out
    m = re.match(r"^(.*?)::\{(.*)\}$", body)
    if m:
        return go([p for p in m.group(1).split("::") if p], m.group(2))
    return [[p for p in body.split("::") if p]]


def graph():
    files = module_files()
    edges = {}
    for parts, rel in files.items():
        text = strip_tests(open(os.path.join(SRC, rel), encoding="utf-8").read())
        text = re.sub(r"//[^\n]*", "", text)
        deps = {}
        for m in re.finditer(r"\buse\s+(crate::[^;]+);", text):
            for path in expand_use(m.group(1)):
                tgt = resolve(path[1:], files)
                if tgt and tgt != rel:
                    deps.setdefault(tgt, set()).add(path[-1])
        for m in re.finditer(r"\bcrate((?:::\w+)+)", text):
            path = m.group(1).split("::")[1:]
            tgt = resolve(path, files)
            if tgt and tgt != rel:
                deps.setdefault(tgt, set()).add(path[-1])
        # `super::x` from a file in a folder
        for m in re.finditer(r"\bsuper((?:::\w+)+)", text):
            base = list(parts[:-1]) if not rel.endswith("mod.rs") else list(parts[:-1])
            tgt = resolve(base + m.group(1).split("::")[1:], files)
            if tgt and tgt != rel:
                deps.setdefault(tgt, set()).add(m.group(1).split("::")[-1])
        edges[rel] = deps
    return files, edges


def sccs(nodes, edges):
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
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
            out.append(comp)
    for v in nodes:
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def long_functions(rel):
    text = strip_tests(open(os.path.join(SRC, rel), encoding="utf-8").read())
    lines = text.split("\n")
    found = []
    for i, line in enumerate(lines):
        m = re.match(r"^\s*(pub(\([^)]*\))?\s+)?(async\s+)?(const\s+)?(unsafe\s+)?fn\s+(\w+)", line)
        if not m:
            continue
        depth, started, j = 0, False, i
        while j < len(lines):
            for ch in lines[j]:
                if ch == "{":
                    depth += 1
                    started = True
                elif ch == "}":
                    depth -= 1
            if started and depth <= 0:
                break
            if not started and lines[j].rstrip().endswith(";"):
                break
            j += 1
        if started and j - i + 1 > LONG_FN:
            found.append((m.group(6), j - i + 1))
    return found


def main():
    if not os.path.isdir(SRC):
        print(f"layers: no src/ in {REPO}")
        return 2
    files, edges = graph()
    nodes = sorted(files.values())
    circles = sccs(nodes, edges)
    in_circles = sum(len(c) for c in circles)
    for c in circles:
        c = sorted(c)
        print(f"circle of {len(c)} files: {', '.join(c)}")
        for a in c:
            for b, names in sorted(edges.get(a, {}).items()):
                if b in c:
                    print(f"    {a} -> {b}: {', '.join(sorted(names))}")
    sizes = {}
    for rel in nodes:
        text = strip_tests(open(os.path.join(SRC, rel), encoding="utf-8").read())
        sizes[rel] = sum(1 for l in text.split("\n") if l.strip() and not l.strip().startswith("//"))
    big = [(r, n) for r, n in sizes.items() if n > LONG_FILE]
    for r, n in sorted(big, key=lambda x: -x[1]):
        print(f"long file: {r} {n} lines of code (> {LONG_FILE})")
    fns = []
    for rel in nodes:
        for name, n in long_functions(rel):
            fns.append((rel, name, n))
    for rel, name, n in sorted(fns, key=lambda x: -x[2]):
        print(f"long fn: {rel} {name} {n} lines (> {LONG_FN})")
    arrows = sum(len(d) for d in edges.values())
    print(f"layers: {len(nodes)} files, {arrows} arrows, {len(circles)} circles ({in_circles} files in them), "
          f"{len(big)} files > {LONG_FILE} lines, {len(fns)} fns > {LONG_FN} lines; "
          f"largest {max(sizes.values())} lines")
    return 0 if not circles and not big and not fns else 1


if __name__ == "__main__":
    sys.exit(main())
