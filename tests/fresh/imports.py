#!/usr/bin/python3
"""Imports every Python module that a test, benchmark or script imports.

Run by tests/fresh/fresh_machine.sh inside a container where only
scripts/deps.sh has installed anything: a module that deps.sh forgot (say
python3-serial-asyncio, which Debian 12's pymodbus imports but only
recommends) fails here with its name, instead of in whichever test happens to
reach it first. `from A.B import C` imports A.B, because that is where
pymodbus pulls in its optional dependencies. Python embedded in shell scripts
(bench/*.sh heredocs) is scanned line by line.

  tests/fresh/imports.py [ROOT]     default: the checkout this file is in
exit 0 all imported, 1 some missing (each named), 2 usage.
"""
import ast
import importlib
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), "..", ".."))
DIRS = ("tests", "bench", "scripts", "deploy")
LINE = re.compile(r"^\s*(?:from\s+([A-Za-z_][\w.]*)\s+import\b|import\s+([A-Za-z_][\w., ]*))")


def from_python(text):
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


def from_shell(text):
    for line in text.splitlines():
        m = LINE.match(line)
        if m and m.group(1):
            yield m.group(1)
        elif m:
            yield from (n.strip().split(" ")[0] for n in m.group(2).split(",") if n.strip())


def scan():
    """{module: first file that imports it}, and the project's own module names."""
    found, local = {}, set()
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(ROOT, d)):
            for f in sorted(files):
                path = os.path.join(dirpath, f)
                if f.endswith(".py"):
                    local.add(f[:-3])
                    mods = from_python(open(path, encoding="utf-8").read())
                elif f.endswith(".sh"):
                    mods = from_shell(open(path, encoding="utf-8").read())
                else:
                    continue
                for m in mods:
                    found.setdefault(m, os.path.relpath(path, ROOT))
    return found, local


def main():
    found, local = scan()
    missing = []
    for mod in sorted(found):
        if mod.split(".")[0] in local:
            continue
        try:
            importlib.import_module(mod)
        except Exception as e:  # ImportError, or a module that fails while importing
            missing.append("%s (imported by %s): %s: %s" % (mod, found[mod], type(e).__name__, e))
    n = len([m for m in found if m.split(".")[0] not in local])
    for m in missing:
        print("imports: MISSING %s" % m)
    print("imports: %d of %d modules import (%s)" % (n - len(missing), n, sys.executable))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
