"""Quick looks at Arrow text cells (budgetopt.cells): the first byte of each cell, and patterns run only where a
look says they may match."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budgetopt.cells import UNKNOWN, first_bytes, matching, starting_with


def test_first_bytes_whatever_the_layout():
    """Sliced, chunked, 64-bit offsets, missing and empty cells (0), and a layout without offsets (UNKNOWN)."""
    assert first_bytes(pa.array(["12", "", None, "-x", "é1", ".5"])).tolist() == [49, 0, 0, 45, 0xC3, 46]
    assert first_bytes(pa.array(["a", "9", "77"]).slice(1)).tolist() == [57, 55]
    assert first_bytes(pa.chunked_array([pa.array(["x", "1"]), pa.array(["", "5"])])).tolist() == [120, 49, 0, 53]
    assert first_bytes(pa.array(["12", "", "7"], pa.large_string()).slice(1)).tolist() == [0, 55]
    assert first_bytes(pa.array(["1", "b"], pa.string_view())).tolist() == [UNKNOWN, UNKNOWN]
    assert first_bytes(pa.chunked_array([], pa.string())).tolist() == []


@pytest.mark.parametrize("cells", [
    pa.array(["=1+2", "x", "", None, "'=A1", "-3", "@x", "\tx", "plain"]),
    pa.chunked_array([pa.array(["=1", "y"]), pa.array(["z", "+2"])]),
    pa.array(["y", "'+c", "z"], pa.large_string()).slice(1),
])
def test_a_pattern_where_the_first_byte_allows_it_is_the_pattern_everywhere(cells):
    pattern = "^'*[=+\\-@\\t\\r]"
    import pyarrow.compute as pc

    everywhere = np.array(pc.fill_null(pc.match_substring_regex(cells, pattern), False), dtype=bool)
    assert matching(cells, pattern, starting_with(cells, b"'=+-@\t\r")).tolist() == everywhere.tolist()


def test_made_of_looks_at_the_bytes_the_cells_hold():
    """Only the bytes of the cells themselves count (a slice's neighbours do not); bytes between the allowed
    ones are refused (`/` between `-` and `9`)."""
    from budgetopt.cells import made_of

    digits = b"0123456789.-"
    assert made_of(pa.array(["12", "-3.5", "", None]), digits)
    assert not made_of(pa.array(["12", "1/2"]), digits)
    assert not made_of(pa.array(["12", "1e5"]), digits)
    assert made_of(pa.array(["Cost", "12", "7"]).slice(1), digits)
    assert made_of(pa.chunked_array([pa.array(["x", "1"]).slice(1), pa.array(["2", "y"]).slice(0, 1)]), digits)
    assert not made_of(pa.array(["1", "b"], pa.string_view()), digits)


@pytest.mark.parametrize("text", ["plain", "tab\tand\nlines\r", "é日本", "bell\x07", "nul\x00", "\x1f", "vt\x0b",
                                  "\x0c"])
def test_made_of_with_many_bytes_ruled_out(text):
    """With many bytes to rule out (the control characters a workbook cannot store) the look is by table: a cell
    holding any of them is found, in a slice or a chunk as well."""
    from budgetopt.cells import made_of
    from budgetopt.export import ILLEGAL_CHARACTERS_RE, STORABLE_BYTES

    storable = not ILLEGAL_CHARACTERS_RE.search(text)
    assert made_of(pa.array(["ok", text, None]), STORABLE_BYTES) is storable
    assert made_of(pa.array(["\x01", text, "\x02"]).slice(1, 1), STORABLE_BYTES) is storable
    assert made_of(pa.chunked_array([pa.array(["a"]), pa.array([text])]), STORABLE_BYTES) is storable


@pytest.mark.parametrize("text", ["a", " a", "a ", "\ta", "a\n", "\u00a0a", "a\u3000", "\u2009", "é", "aé", "", "x\x1c",
                                  "\x85a", "a\u2028"])
def test_a_cell_whose_edges_hold_no_space_byte_is_unchanged_by_a_strip(text):
    """spaced_edges is True wherever Arrow's strip could change the cell (it may say True where it does not)."""
    import pyarrow.compute as pc

    from budgetopt.cells import spaced_edges

    cells = pa.array([text, "plain"])
    changed = [a != b for a, b in zip(cells.to_pylist(), pc.utf8_trim_whitespace(cells).to_pylist(), strict=True)]
    assert not any(c and not s for c, s in zip(changed, spaced_edges(cells).tolist(), strict=True))
    assert spaced_edges(cells).tolist()[1] is False


def test_nonempty_cells_from_the_offsets():
    from budgetopt.cells import nonempty

    assert nonempty(pa.array(["a", "", None, " "])).tolist() == [True, False, False, True]
    assert nonempty(pa.chunked_array([pa.array(["", "x"]).slice(1), pa.array(["", "y"])])).tolist() == [True, False,
                                                                                                        True]
    assert nonempty(pa.array(["z", "", "y"], pa.large_string()).slice(1)).tolist() == [False, True]
    assert nonempty(pa.array(["", "b"], pa.string_view())).tolist() == [False, True]


def test_leading_bytes_whatever_the_layout():
    """The first bytes of each cell, 0 past its end and for a missing cell; sliced and chunked alike; None for a
    layout without offsets."""
    from budgetopt.cells import leading_bytes

    got = leading_bytes(pa.chunked_array([pa.array(["Tot", "", None]), pa.array(["abcd", "ſu", "x"]).slice(1)]), 3)
    assert got.tolist() == [[84, 111, 116], [0, 0, 0], [0, 0, 0], [0xC5, 0xBF, 117], [120, 0, 0]]
    assert leading_bytes(pa.array(["ab"], pa.large_string()), 2).tolist() == [[97, 98]]
    assert leading_bytes(pa.array(["1"], pa.string_view()), 2) is None
    assert leading_bytes(pa.chunked_array([], pa.string()), 3).shape == (0, 3)


def test_holds_looks_at_the_bytes_the_cells_hold():
    """A 'no' is sure (a slice's neighbours do not count); a 'yes' may come from two cells side by side."""
    from budgetopt.cells import holds

    assert holds(pa.array(["a  b", "c"]), b"  ")
    assert not holds(pa.array(["a  b", "c d", "e"]).slice(1), b"  ")
    assert holds(pa.array(["a ", " b"]), b"  ")  # across two cells: the caller then looks cell by cell
    assert not holds(pa.chunked_array([pa.array(["x"]), pa.array([], pa.string())]), b"  ")
    assert holds(pa.array(["1"], pa.string_view()), b"  ")  # no offsets: cannot tell


@settings(deadline=None, max_examples=300)
@given(st.lists(st.text(alphabet="ab '\u00e9", max_size=5), max_size=8), st.integers(0, 3),
       st.sampled_from([b"'", b"  ", b"a b", b"\xc3", b"ab'"]))
def test_holds_says_what_the_joined_bytes_say(cells, cut, needle):
    """holds is `needle in` the cells' bytes one after another (a slice's neighbours left out), for needles of one
    byte and of several."""
    from budgetopt.cells import holds

    arrow = pa.array(cells, pa.string()).slice(min(cut, len(cells)))
    assert holds(arrow, needle) == (needle in "".join(arrow.to_pylist()).encode())


@settings(deadline=None, max_examples=300)
@given(st.lists(st.sampled_from(b"ab '"), max_size=40).map(bytes), st.sampled_from([b"'", b"  ", b"a b", b"ab'", b""]),
       st.integers(1, 7))
def test_a_needle_across_two_pieces_is_found(data, needle, piece):
    """`_contains` looks at the bytes a piece at a time, each piece reaching into the next: what it finds is what
    `in` finds, whatever the pieces' size (here 1 to 7 bytes, a megabyte in use)."""
    from budgetopt import cells

    saved, cells._PIECE = cells._PIECE, piece
    try:
        assert cells._contains(np.frombuffer(data, dtype=np.uint8), needle) == (needle in data)
    finally:
        cells._PIECE = saved


@pytest.mark.parametrize("text", ["a", " a", "a ", "\ta", "a\n", "\u00a0a", "a\u3000", "\u2009", "é", "aé", "", "x\x1c",
                                  "\x85a", "a\u2028", "a b", "1.5"])
def test_any_spaced_edge_is_true_wherever_a_strip_could_change_a_cell(text):
    """The quick look (no byte that can belong to a space: no look at the edges) says what spaced_edges says, for a
    cell alone, beside others, sliced off and in a chunk of its own."""
    import pyarrow.compute as pc

    from budgetopt.cells import any_spaced_edge, spaced_edges

    for cells in (pa.array([text]), pa.array(["plain", text, "x"]), pa.array([" a ", text]).slice(1),
                  pa.chunked_array([pa.array(["12"]), pa.array([text])])):
        assert any_spaced_edge(cells) == bool(spaced_edges(cells).any())
        stripped = pc.utf8_trim_whitespace(cells).to_pylist()
        if stripped != cells.to_pylist():
            assert any_spaced_edge(cells)
