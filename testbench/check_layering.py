#!/usr/bin/env python3
"""Checks every project #include against the layout table of docs/architecture.md.

The table is the one rule for who may depend on whom: its rows are
`| `folder/` | role | `dep/`, `dep/file.h` |`. A source file belongs to the row
with the longest matching folder; it may include files of its own folder and of
the folders (or single files) its row lists. Anything else is a layering
violation, printed as file:line: include, and the exit status is 1.
usage: check_layering.py SOURCE_DIR
"""
import os
import re
import sys

ROW = re.compile(r"^\|\s*`([^`]+/)`\s*\|[^|]*\|([^|]*)\|\s*$")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
TOPS = ("hw/", "tlm/", "rtl/", "sw/", "testbench/")


def read_table(doc):
    rules = {}
    with open(doc, encoding="utf-8") as f:
        for line in f:
            m = ROW.match(line.strip())
            if m:
                deps = re.findall(r"`([^`]+)`", m.group(2))
                rules[m.group(1)] = [d for d in deps if d.startswith(TOPS)]
    if not rules:
        sys.exit(f"{doc}: no layout table (rows '| `folder/` | role | may depend on |') found")
    return rules


def owner(path, rules):
    best = None
    for folder in rules:
        if path.startswith(folder) and (best is None or len(folder) > len(best)):
            best = folder
    return best


def allowed(inc, folder, deps):
    if inc.startswith(folder):
        return True
    return any(inc == d or (d.endswith("/") and inc.startswith(d)) for d in deps)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    rules = read_table(os.path.join(root, "docs", "architecture.md"))
    bad = checked = 0
    for top in ("hw", "tlm", "rtl", "sw"):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for name in sorted(files):
                if not name.endswith((".h", ".cpp")):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                folder = owner(path, rules)
                if folder is None:
                    print(f"{path}: no row of the layout table covers this folder")
                    bad += 1
                    continue
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for n, line in enumerate(f, 1):
                        m = INCLUDE.match(line)
                        if not m or not m.group(1).startswith(TOPS):
                            continue
                        checked += 1
                        if not allowed(m.group(1), folder, rules[folder]):
                            print(f"{path}:{n}: includes {m.group(1)}, but {folder} may depend on "
                                  f"{', '.join(rules[folder]) or 'nothing else'}")
                            bad += 1
    print(f"{checked} project includes checked against {len(rules)} layout rows: {bad} violations")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
