#!/usr/bin/env python3
"""test_error_words: the protocol's error words are one table (core/errors.c) and docs say the
same. Every word of contract.md is in the table, docs/protocol.md's table of error words has the
same rows with the same meanings, and no C file outside core/errors.c writes an error word into
a reply as a string literal (replies take an HK_ERR_* code)."""
import os
import re
import sys

SRC = os.environ.get("HK_SRC", os.path.join(os.path.dirname(__file__), "..", ".."))
CONTRACT = ["unauthenticated", "forbidden", "bad_request", "not_found", "conflict", "queue_empty",
            "closed", "frozen", "unavailable"]
REPLY_CALL = re.compile(r'\b(hall_reply_err|hall_err_reply|reply_err\w*)\((?:[^;"]|"id")*?"([a-z_]+)"', re.S)


def read(rel):
    with open(os.path.join(SRC, rel), encoding="utf-8") as f:
        return f.read()


def main():
    problems = []
    table = re.findall(r'\{HK_ERR_(\w+), "([a-z_]+)", "([^"]*)"\}', read("core/errors.c"))
    words = {w: m for _, w, m in table}
    for code, w, _ in table:
        if code.lower() != w:
            problems.append("core/errors.c: HK_ERR_%s has the word %s" % (code, w))
    for w in CONTRACT:
        if w not in words:
            problems.append("core/errors.c lacks contract.md's word %s" % w)
    doc = dict(re.findall(r"^\| `([a-z_]+)` \| (.*?) \|$", read("docs/protocol.md"), re.M))
    for w, m in words.items():
        if doc.get(w) != m:
            problems.append("docs/protocol.md, error words: %s is %r, core/errors.c says %r" % (w, doc.get(w), m))
    for top in ("core", "io", "web", "gpio"):
        for root, _, files in os.walk(os.path.join(SRC, top)):
            for name in files:
                if not name.endswith(".c"):
                    continue
                path = os.path.join(root, name)
                with open(path, encoding="utf-8") as f:
                    text = f.read()
                for m in REPLY_CALL.finditer(text):
                    if m.group(2) in words:
                        line = text.count("\n", 0, m.start()) + 1
                        problems.append("%s:%d: the word %s as a literal (use HK_ERR_%s)" % (
                            os.path.relpath(path, SRC), line, m.group(2), m.group(2).upper()))
    for p in problems:
        print(p)
    print("%d words checked, %d problems" % (len(words), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
