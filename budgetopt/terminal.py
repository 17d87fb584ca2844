"""Text for a terminal: control characters that come from data (touchpoint names, scenario descriptions, file
names) are shown as escapes, never obeyed, so a name cannot clear the screen, move the cursor, hide text or
reverse it. Line breaks and tabs pass; a carriage return passes only where budgetopt itself starts a line
with one (its progress counter).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""C0 and C1 controls but tab and line feed (ESC starts every terminal command), and the Unicode marks that
reorder or break text (bidirectional overrides and isolates, line and paragraph separators)."""


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """`text` with every character of CONTROL written as an escape: 'a\\x1b[2Jb' -> 'a\\\\x1b[2Jb'."""
    return CONTROL.sub(_escape, text)


class SafeStream:
    """A text stream that writes through `printable`; a carriage return that starts a write is kept."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        lead = "\r" if text.startswith("\r") else ""
        self.stream.write(lead + printable(text[len(lead):]))
        return len(text)

    def __getattr__(self, name: str):  # flush, isatty, encoding, fileno, ... of the stream itself
        return getattr(self.stream, name)


@contextmanager
def safe_output() -> Iterator[None]:
    """Within the block, sys.stdout and sys.stderr escape control characters."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
