#!/usr/bin/env python3
"""The project's documents stand alone: every `*.md` a source file, header,
template, script or document names exists in the repository (relative to
the root, or to the naming file's folder). Issue 11: the header, docs and
--help texts cited design notes that were never in the repository.

Usage: test_docs_self_contained.py SOURCE_ROOT"""
import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
SKIP_DIRS = {".git", "generated", "fixtures", "__pycache__"}
TEXT = (".c", ".h", ".py", ".j2", ".md", ".sh", ".txt", ".toml", ".cmake", ".in", ".cpp")
# a path-like token ending in .md, not part of a URL
CITATION = re.compile(r"(?<![\w/.:-])((?:[\w.-]+/)*[\w.-]+\.md)\b")


def sources():
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        for name in files:
            if name.endswith(TEXT) or name in ("run", "CMakeLists.txt"):
                yield os.path.join(top, name)


def main():
    missing = []
    for path in sources():
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for lineno, line in enumerate(text.splitlines(), 1):
            if "://" in line:
                line = re.sub(r"\S+://\S+", "", line)
            for cited in CITATION.findall(line):
                here = os.path.join(os.path.dirname(path), cited)
                if not (os.path.exists(os.path.join(ROOT, cited)) or os.path.exists(here)):
                    missing.append("%s:%d: %s" % (os.path.relpath(path, ROOT), lineno, cited))
    for m in missing:
        print("cites a document not in the repository:", m)
    print("%d citations of missing documents" % len(missing))
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
