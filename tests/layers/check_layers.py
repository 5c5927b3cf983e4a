#!/usr/bin/env python3
"""The code map's rules, checked against every #include of the tree.

docs/architecture.md's code map is the one statement of the layers: its
"### src/NAME/" headings, lowest first. This reads them from there, so the map
cannot drift from the code, and fails (one line per breach, exit 1) when:
  - a folder of src/ (or include/leakd/) is not on the map, or the map names
    one that does not exist;
  - a file includes the header of a higher layer;
  - a header's function is defined in another module's .c (a back door that
    an include graph cannot see: the module then calls up through it);
  - modules include each other in a circle, within a layer or across.
The two root contracts, include/leakd/abi.h and include/leakd/summary.h, are
below every layer and include no project header.
Usage: check_layers.py [ROOT]   (the repository's root; default: this tree's)
"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
CONTRACTS = {"abi", "summary"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"leakd/([a-z0-9_/]+)\.h"', re.M)
# A declaration at file scope: a type, then name( ... );
DECL = re.compile(r'^(?!static|typedef|#|\s|\}|struct [a-z_0-9]+ \{|enum|union)'
                  r'[A-Za-z_][^;{}()]*?\b([a-z][a-z0-9_]*)\s*\([^;{}]*\)\s*'
                  r'(?:__attribute__\s*\(\(.*\)\)\s*)?;', re.M)
DEFN = re.compile(r'^(?!static|#|\s)[A-Za-z_][^;{}()=]*?\b([a-z][a-z0-9_]*)\s*\([^;{}]*\)\s*\{', re.M)

errors = []


def fail(msg):
    errors.append(msg)


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def layers_from_map():
    doc = os.path.join(ROOT, "docs", "architecture.md")
    names = re.findall(r"^### src/([a-z0-9_]+)/", read(doc), re.M)
    if not names:
        print(f"check_layers: no code map in {doc} ('### src/NAME/' headings)")
        sys.exit(1)
    return names


def strip_comments(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def main():
    layers = layers_from_map()
    rank = {name: i for i, name in enumerate(layers)}
    src, inc = os.path.join(ROOT, "src"), os.path.join(ROOT, "include", "leakd")
    for top, what in ((src, "src"), (inc, "include/leakd")):
        for d in sorted(os.listdir(top)):
            if os.path.isdir(os.path.join(top, d)) and d not in rank:
                fail(f"{what}/{d}/ is not on the code map (docs/architecture.md)")
    for name in layers:
        if not os.path.isdir(os.path.join(src, name)) and not os.path.isdir(os.path.join(inc, name)):
            fail(f"the code map names src/{name}/, which does not exist")

    # module "layer/stem" -> its files; contracts are modules of their own
    files = {}
    for name in layers:
        for top, ext in ((src, ".c"), (inc, ".h")):
            d = os.path.join(top, name)
            for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
                if f.endswith(ext):
                    files.setdefault(f"{name}/{f[:-len(ext)]}", []).append(os.path.join(d, f))
    for f in sorted(os.listdir(inc)):
        if f.endswith(".h"):
            files.setdefault(f[:-2], []).append(os.path.join(inc, f))
    # A module may span MODULE.c and MODULE_PART.c behind the one header
    # MODULE.h: a part without a header of its own joins its module.
    for module in sorted(files):
        paths = files.get(module)
        if not paths or len(paths) != 1 or not paths[0].endswith(".c"):
            continue
        layer, stem = module.split("/") if "/" in module else ("", module)
        parts = stem.split("_")
        owner = next((f"{layer}/{'_'.join(parts[:k])}" for k in range(len(parts) - 1, 0, -1)
                      if f"{layer}/{'_'.join(parts[:k])}" in files), module)
        if owner != module and owner in files and any(p.endswith(".h") for p in files[owner]):
            files[owner] += files.pop(module)

    def layer_of(module):
        return -1 if "/" not in module else rank[module.split("/")[0]]

    edges = {m: set() for m in files}
    for module, paths in files.items():
        for path in paths:
            rel = os.path.relpath(path, ROOT)
            for target in INCLUDE.findall(strip_comments(read(path))):
                if target not in files:
                    fail(f"{rel}: includes leakd/{target}.h, which does not exist")
                    continue
                if "/" not in module and target != module:
                    fail(f"{rel}: a root contract includes leakd/{target}.h (contracts include no project header)")
                if layer_of(target) > layer_of(module):
                    fail(f"{rel}: includes leakd/{target}.h, of a higher layer "
                         f"({target.split('/')[0]} above {module.split('/')[0]})")
                if target != module:
                    edges[module].add(target)

    # Who defines what each header declares.
    defined = {}
    for module, paths in files.items():
        for path in paths:
            if path.endswith(".c"):
                for fn in DEFN.findall(strip_comments(read(path))):
                    defined.setdefault(fn, module)
    for module, paths in files.items():
        for path in paths:
            if not path.endswith(".h"):
                continue
            for fn in DECL.findall(strip_comments(read(path))):
                owner = defined.get(fn)
                if owner and owner != module:
                    fail(f"{os.path.relpath(path, ROOT)}: declares {fn}(), defined in {owner}.c: "
                         f"a module's functions belong to its own .c")
                    edges[owner].add(module)  # owner is reached through this header

    # Circles: Tarjan's strongly connected components over the module graph.
    index, low, stack, on, sccs = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
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
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    for comp in sccs:
        fail("modules in a circle: " + " <-> ".join(comp))

    for e in errors:
        print(f"check_layers: {e}")
    if errors:
        print(f"check_layers: FAILED, {len(errors)} breach(es) of the code map")
        return 1
    nmod = sum(1 for m in files if "/" in m)
    print(f"check_layers: {nmod} modules in {len(layers)} layers, "
          f"{sum(len(e) for e in edges.values())} includes between modules, none upward, no circle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
