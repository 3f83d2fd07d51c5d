#!/usr/bin/env python3
"""Checks that each page in man/ documents the return values the header documents.

For every function a page names, the "Returns" paragraph of its comment in include/nbtls.h
gives the values it returns; of those, the ones a caller tests for (0, 1, -1, NULL,
TLS_WANT_POLLIN, TLS_WANT_POLLOUT) are compared with the page's RETURN VALUES section:
  - a page whose functions return something has a RETURN VALUES section;
  - every such value some function of the page returns appears in that section;
  - every such value the section mentions is returned by some function of the page.
So a header comment and a page cannot drift apart on what a call returns (a page promising
TLS_WANT_POLLOUT from a call that never returns it, or leaving out a NULL). The comparison
is per page, not per function: a value one function of a page returns covers the others.
Usage: check-man-returns.py [TOP]; exits 1 and names the page on a mismatch.
"""
import os
import re
import sys

top = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
VALUES = ("-1", "0", "1", "NULL", "TLS_WANT_POLLIN", "TLS_WANT_POLLOUT")
# "1" in "TLS 1.3" or "-1" is not a value; "0." ending a sentence is.
TOKEN = re.compile(r"(?<![\w.\-])(-1|0|1|NULL|TLS_WANT_POLLIN|TLS_WANT_POLLOUT)(?!\w|\.\d)")


def values(text):
    return {m.group(1) for m in TOKEN.finditer(text)}


def header_returns(path):
    """Each function's return type, what its comment says it returns, and the values in it."""
    src = open(path).read()
    out = {}
    for m in re.finditer(r"/\*\*(.*?)\*/\s*([^;{}]*?)\b(tls_\w+)\(", src, re.S):
        comment, rettype, name = m.group(1), m.group(2), m.group(3)
        if "typedef" in rettype or "#define" in rettype:
            continue
        lines = [re.sub(r"^\s*\* ?", "", l) for l in comment.splitlines()]
        paras, cur = [], []
        for l in lines:
            if l.strip():
                cur.append(l)
            elif cur:
                paras.append(" ".join(cur))
                cur = []
        if cur:
            paras.append(" ".join(cur))
        # The sentences that say what it returns: those beginning with "Returns" and those
        # beginning with a value ("0 for NULL."); the others say other things.
        sentences = [x for p in paras for x in re.split(r"(?<=\.)\s+(?=[A-Z0-9-])", p)]
        returns = " ".join(
            x for x in sentences if x.startswith("Returns ") or TOKEN.match(x)
        )
        rettype = rettype.split("\n")[-1].strip()
        found = values(returns)
        if not rettype.endswith("*"):
            found.discard("NULL")  # a NULL argument, not a value it returns
        out[name] = (rettype, returns, found)
    return out


def page_sections(path):
    """The names a page's NAME section gives and the plain text of its RETURN VALUES."""
    names, section, ret = [], None, []
    for line in open(path):
        line = line.rstrip("\n")
        if line.startswith(".Sh "):
            section = line[4:]
            continue
        if section == "NAME" and line.startswith(".Nm "):
            names.append(line.split()[1])
        if section == "RETURN VALUES":
            text = line.replace("\\-", "-").replace("\\&", "")
            if text.startswith("."):
                text = text.split(" ", 1)[1] if " " in text else ""
            ret.append(text)
    return names, ("\n".join(ret) if section_seen(path) else None)


def section_seen(path):
    return any(l.startswith(".Sh RETURN VALUES") for l in open(path))


def main():
    header = header_returns(os.path.join(top, "include", "nbtls.h"))
    mandir = os.path.join(top, "man")
    bad = 0
    pages = 0
    for page in sorted(os.listdir(mandir)):
        if not page.endswith(".3"):
            continue
        pages += 1
        names, ret = page_sections(os.path.join(mandir, page))
        promised = set()
        returning = []
        for name in names:
            if name not in header:
                print(f"check-man-returns: {page}: {name} is not declared in include/nbtls.h")
                bad += 1
                continue
            rettype, text, found = header[name]
            if rettype == "void":
                continue
            returning.append(name)
            if not text:
                print(f"check-man-returns: {name}: its header comment has no Returns")
                bad += 1
            promised |= {(v, name) for v in found}
        if not returning:
            continue
        if ret is None:
            print(f"check-man-returns: {page}: no RETURN VALUES section for {', '.join(returning)}")
            bad += 1
            continue
        documented = values(ret)
        for v, name in sorted(promised):
            if v not in documented:
                print(f"check-man-returns: {page}: RETURN VALUES does not mention {v}, "
                      f"which the header says {name} returns")
                bad += 1
        # A NULL in the section may be an argument ("-1 for a NULL config"): only the
        # values above are checked in this direction.
        for v in sorted(documented - {v for v, _ in promised} - {"NULL"}):
            print(f"check-man-returns: {page}: RETURN VALUES mentions {v}, which the header "
                  f"says none of {', '.join(returning)} returns")
            bad += 1
    if bad:
        sys.exit(1)
    print(f"check-man-returns: {pages} pages document the return values the header gives")


main()
