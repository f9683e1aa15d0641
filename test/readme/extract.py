#!/usr/bin/env python3
"""test/readme/extract.py: writes the README's complete examples out as files, unchanged.

Usage: extract.py README OUTDIR NAME...

An example is a ```cpp fenced block whose line before is the marker
`<!-- example: NAME -->`. Its lines, from the one after the fence to the one before the
closing ```, are written byte for byte to OUTDIR/NAME. The NAMEs given must be exactly the
names marked in the README (the build lists the examples it compiles: an example added to
the README, or one the build expects that is gone, is an error, not a silent skip).

Fails (exit 1, with the README's line number) when a marker is not followed at once by a
```cpp fence, a block is not closed, a line starting as a marker is not one, a name
repeats or is not a plain file name, the README has no example at all, or the names differ
from those given.
"""
import re
import sys
from pathlib import Path

MARKER = re.compile(rb"<!-- example: ([A-Za-z0-9_][A-Za-z0-9_.-]*\.cpp) -->")
LOOSE = re.compile(rb"\s*<!--\s*example\b", re.I)
OPEN = b"```cpp"
CLOSE = b"```"


def fail(readme, line, why):
    sys.exit(f"{readme}:{line}: {why}")


def examples(readme):
    """Yields (name, bytes) for each marked block of the README, in order."""
    lines = Path(readme).read_bytes().splitlines(keepends=True)
    i = 0
    while i < len(lines):
        text = lines[i].rstrip(b"\r\n")
        m = MARKER.fullmatch(text)
        if not m:
            if LOOSE.match(text):
                fail(readme, i + 1, f"not a marker (`<!-- example: NAME.cpp -->`): {text.decode(errors='replace')}")
            i += 1
            continue
        name, marker_line = m[1].decode(), i + 1
        if i + 1 >= len(lines) or lines[i + 1].rstrip(b"\r\n") != OPEN:
            fail(readme, marker_line, f"the marker of {name} is not followed by a ```cpp fence")
        start = i + 2
        end = start
        while end < len(lines) and lines[end].rstrip(b"\r\n") != CLOSE:
            end += 1
        if end == len(lines):
            fail(readme, marker_line, f"the block of {name} is not closed by ```")
        yield marker_line, name, b"".join(lines[start:end])
        i = end + 1


def main(args):
    if len(args) < 2:
        sys.exit(__doc__)
    readme, outdir, expected = args[0], Path(args[1]), args[2:]
    found = {}
    for line, name, body in examples(readme):
        if name in found:
            fail(readme, line, f"the example name {name} is used twice")
        found[name] = body
    if not found:
        sys.exit(f"{readme}: no example (`<!-- example: NAME.cpp -->` before a ```cpp fence)")
    if set(expected) != set(found) or len(expected) != len(set(expected)):
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        sys.exit(f"{readme}: the examples marked there are not those the build compiles"
                 f" (marked, not built: {extra or 'none'}; built, not marked: {missing or 'none'})")
    outdir.mkdir(parents=True, exist_ok=True)
    for name, body in found.items():
        (outdir / name).write_bytes(body)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
