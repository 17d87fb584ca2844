"""Quick looks at a column of text cells held by Arrow, without making a Python string per cell.

Reading a 100,000-row file runs a few tests on every column (is this cell a plain number? could it run as a
formula?). Most cells fail them on their first character, so a look at each cell's first byte, read from the
Arrow buffers, settles them before any pattern runs; the patterns then run on the few cells left.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

UNKNOWN = 0xFF
"""`first_bytes` of a cell in a layout without offsets (no UTF-8 text begins with this byte): look closer."""


def held(column: pd.Series):
    """The Arrow array pandas keeps a column in (its Arrow string or Arrow-backed storage), else None."""
    return getattr(column.array, "_pa_array", None)


def arrow_cells(text: pd.Series):
    """The Arrow strings behind a column of text (converted once when it is held as Python strings)."""
    import pyarrow as pa

    cells = held(text)
    return cells if cells is not None else pa.array(text.to_numpy(dtype=object), type=pa.large_string(),
                                                    from_pandas=True)


def first_bytes(cells) -> np.ndarray:
    """The first byte of each cell of an Arrow string array (0 for an empty or missing cell, UNKNOWN for a layout
    without offsets), read from its buffers."""
    return _edge_bytes(cells, last=False)


def last_bytes(cells) -> np.ndarray:
    """The last byte of each cell (0 for an empty or missing cell, UNKNOWN for a layout without offsets)."""
    return _edge_bytes(cells, last=True)


def _edge_bytes(cells, last: bool) -> np.ndarray:
    parts = []
    for chunk in _chunks(cells):
        if not _is_text(chunk):
            parts.append(np.full(len(chunk), UNKNOWN, dtype=np.uint8))
            continue
        start, text = _offsets_and_bytes(chunk)
        byte = text.take(start[1:] - 1 if last else start[:-1], mode="clip")  # an empty cell's: set to 0 below
        byte[start[1:] == start[:-1]] = 0
        if chunk.null_count:
            byte[np.asarray(chunk.is_null().to_numpy(zero_copy_only=False), dtype=bool)] = 0
        parts.append(byte)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)


def leading_bytes(cells, size: int) -> np.ndarray | None:
    """The first `size` bytes of each cell (rows x size; 0 past a cell's end and for a missing cell), read from the
    Arrow buffers; None for a layout without offsets."""
    parts = []
    for chunk in _chunks(cells):
        if not _is_text(chunk):
            return None
        start, text = _offsets_and_bytes(chunk)
        length = start[1:] - start[:-1]
        if chunk.null_count:
            length = np.where(np.asarray(chunk.is_null().to_numpy(zero_copy_only=False), dtype=bool), 0, length)
        part = np.empty((len(chunk), size), dtype=np.uint8)
        for k in range(size):  # every cell's k-th byte, 0 past the cell's end: a byte past the end is clipped to the
            # buffer's last (there is one: `_offsets_and_bytes` gives an empty buffer as one byte) and then zeroed
            np.multiply(text.take(start[:-1] + k, mode="clip"), length > k, out=part[:, k], casting="unsafe")
        parts.append(part)
    return np.concatenate(parts) if parts else np.zeros((0, size), dtype=np.uint8)


def _chunks(cells) -> list:
    """The non-empty chunks of an Arrow array or chunked array."""
    import pyarrow as pa

    return [chunk for chunk in (cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]) if len(chunk)]


def _is_text(chunk) -> bool:
    """Whether a chunk is Arrow text with offsets (string or large_string)."""
    import pyarrow as pa

    return pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)


def _offsets_and_bytes(chunk) -> tuple[np.ndarray, np.ndarray]:
    """A string chunk's offsets (len + 1) and its whole data buffer, as numpy arrays."""
    import pyarrow as pa

    _, offsets, data = chunk.buffers()[:3]
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    start = np.frombuffer(offsets, dtype=width)[chunk.offset: chunk.offset + len(chunk) + 1]
    return start, (np.frombuffer(data, dtype=np.uint8) if data is not None and data.size
                   else np.zeros(1, dtype=np.uint8))


def made_of(cells, allowed: bytes) -> bool:
    """Whether every cell is made of the bytes in `allowed` only (an empty or missing cell is; False for a layout
    without offsets), by one look at the bytes the cells hold."""

    wanted = np.frombuffer(allowed, dtype=np.uint8)
    low, high = int(wanted.min()), int(wanted.max())
    gaps = sorted(set(range(low, high + 1)) - set(wanted.tolist()))  # bytes between the allowed ones
    for chunk in _chunks(cells):
        if not _is_text(chunk):
            return False
        start, text = _offsets_and_bytes(chunk)
        stored = text[start[0]: start[-1]]
        if not len(stored):
            continue
        if len(gaps) > 2:  # many bytes to rule out: one look each in a table
            if _barred(allowed)[stored].any():
                return False
        elif stored.min() < low or stored.max() > high or any((stored == gap).any() for gap in gaps):
            return False
    return True


def holds(cells, needle: bytes) -> bool:
    """Whether the bytes the cells hold contain `needle` (True for a layout without offsets): a quick 'no' for every
    cell at once; a 'yes' may come from two cells side by side."""
    for chunk in _chunks(cells):
        if not _is_text(chunk):
            return True
        start, text = _offsets_and_bytes(chunk)
        if _contains(text[start[0]: start[-1]], needle):
            return True
    return False


_PIECE = 1 << 20
"""Bytes `_contains` looks at in one go."""


def _contains(stored: np.ndarray, needle: bytes) -> bool:
    """Whether the bytes `stored` contain `needle`, a megabyte at a time (no copy of a whole column's text): one byte
    by `bytes`' own search, a longer one by a comparison per byte of the needle (`bytes` searches such needles as
    '  ' several times slower)."""
    if not needle:
        return True
    span = len(needle) - 1  # each piece reaches `span` bytes into the next: a needle across two is found
    for at in range(0, len(stored) - span, _PIECE):
        piece = stored[at: at + _PIECE + span]
        if not span:
            if needle in piece.tobytes():
                return True
            continue
        size = len(piece) - span
        found = piece[:size] == needle[0]
        for k in range(1, len(needle)):
            found &= piece[k: k + size] == needle[k]
        if found.any():
            return True
    return False


@functools.cache
def _barred(allowed: bytes) -> np.ndarray:
    """A table of the 256 bytes: True for those not in `allowed`."""
    barred = np.ones(256, dtype=bool)
    barred[np.frombuffer(allowed, dtype=np.uint8)] = False
    barred.setflags(write=False)
    return barred


_SPACE_BYTES = np.zeros(256, dtype=bool)
_SPACE_BYTES[[9, 10, 11, 12, 13, 28, 29, 30, 31, 32]] = True  # ASCII whitespace (and the separators Python counts)
_SPACE_BYTES[0x80:] = True  # a byte of a longer character, which may be a space (no-break, thin, ideographic)
_SPACE_BYTES[UNKNOWN] = True


def spaced_edges(cells) -> np.ndarray:
    """Where a cell may begin or end with whitespace (its first or last byte may belong to a space): a strip can
    change only these cells."""
    return _SPACE_BYTES[first_bytes(cells)] | _SPACE_BYTES[last_bytes(cells)]


_UNSPACED = bytes(range(0x21, 0x80))
"""Bytes that cannot belong to a space: printable ASCII other than the space itself."""


def any_spaced_edge(cells) -> bool:
    """`spaced_edges(cells).any()`, with a quick 'no' when no byte the cells hold can belong to a space (a column of
    numbers or of one-word labels)."""
    return not made_of(cells, _UNSPACED) and bool(spaced_edges(cells).any())


def nonempty(cells) -> np.ndarray:
    """Where a cell holds at least one byte (False for an empty or missing cell), from the offsets alone."""
    import pyarrow as pa

    parts = []
    for chunk in _chunks(cells):
        if not _is_text(chunk):
            parts.append(nonempty(chunk.cast(pa.large_string())))
            continue
        start, _ = _offsets_and_bytes(chunk)
        full = start[1:] > start[:-1]
        if chunk.null_count:
            full &= ~np.asarray(chunk.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        parts.append(full)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=bool)


def starting_with(cells, starts: bytes) -> np.ndarray:
    """Where a cell's first byte is one of `starts` (or cannot be read: UNKNOWN), as a writable numpy mask."""
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(starts + bytes([UNKNOWN]), dtype=np.uint8)] = True
    return table[first_bytes(cells)]


def flags(result) -> np.ndarray:
    """An Arrow test's result as a writable numpy mask (missing cells: False)."""
    import pyarrow.compute as pc

    return np.array(pc.fill_null(result, False), dtype=bool)


def take(cells, at: np.ndarray):
    """The cells at positions `at`."""
    import pyarrow as pa

    return cells.take(pa.array(at))


def matching(cells, pattern: str, where: np.ndarray) -> np.ndarray:
    """Where the cells marked by `where` match the RE2 `pattern` anywhere (the others: False); only those are read."""
    import pyarrow.compute as pc

    hit = np.zeros(len(where), dtype=bool)
    at = np.flatnonzero(where)
    if len(at) == len(where):
        return flags(pc.match_substring_regex(cells, pattern))
    if len(at):
        hit[at] = flags(pc.match_substring_regex(take(cells, at), pattern))
    return hit
