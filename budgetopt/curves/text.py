"""Two curve columns written as text, so that a touchpoint table stays one plain table a person can read and edit:

- `spread`: how the planning period's money is spread over its periods, weights with mean 1 ('1.2 0.8 0 1'):
  the period's curve is then mean_t E(S w_t), each week (or month) at its share of the money.
- `curve_points`: a tabulated curve, 'spend:engaged spend:engaged ...', the response over the planning period at
  each spend level.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

BAD = np.inf
"""Marks a list that could not be read (a word, a missing ':' or a non-finite number)."""


def _lists(texts: pd.Series) -> np.ndarray:
    """Each cell's whitespace- or ';'-separated items (N x K array of str, '' where none)."""
    cells = texts.astype("string").fillna("").str.replace(";", " ", regex=False).str.strip()
    if not cells.ne("").any():
        return np.full((len(texts), 0), "", dtype=object)
    return cells.str.split(r"\s+", expand=True, regex=True).fillna("").to_numpy(object)


def _numbers(items: np.ndarray) -> np.ndarray:
    """Items as floats: NaN where blank, BAD where not a finite number (a decimal comma is read too)."""
    flat = pd.Series(items.ravel(), dtype="string").fillna("")
    values = pd.to_numeric(flat.str.replace(",", ".", regex=False), errors="coerce").to_numpy(float)
    written = flat.ne("").to_numpy(bool)
    values[written & ~np.isfinite(values)] = BAD
    values[~written] = np.nan
    return values.reshape(items.shape)


def read_weights(texts: pd.Series) -> np.ndarray:
    """Weights per row (N x T, NaN-padded; rows without text all NaN), scaled to mean 1 over the given ones.
    A row with an unreadable, negative or infinite item, or with no weight above 0, is all `BAD`."""
    w = _numbers(_lists(texts))
    bad = (w == BAD).any(axis=1) | (np.nan_to_num(w) < 0).any(axis=1)
    given = np.isfinite(w).any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # rows without weights: mean of nothing
        mean = np.nanmean(np.where(np.isfinite(w), w, np.nan), axis=1) if w.shape[1] else np.zeros(len(w))
    bad |= given & ~(mean > 0)
    out = np.where(given[:, None], w / np.where(mean > 0, mean, 1.0)[:, None], np.nan)
    out[bad] = BAD
    return out


def read_points(texts: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Tabulated points per row (spend and engaged, N x P, NaN-padded), in the order written. A row with an item
    that is not 'spend:engaged' with two finite numbers of zero or more is all `BAD`."""
    items = _lists(texts)
    if items.shape[1] == 0:
        return np.zeros((len(texts), 0)), np.zeros((len(texts), 0))
    parts = pd.Series(items.ravel(), dtype="string").fillna("").str.partition(":")
    spend = _numbers(parts[0].to_numpy(object).reshape(items.shape))
    engaged = _numbers(parts[2].to_numpy(object).reshape(items.shape))
    written = items != ""
    bad = ((written & ~(np.isfinite(spend) & np.isfinite(engaged))) | (np.nan_to_num(spend) < 0)
           | (np.nan_to_num(engaged) < 0)).any(axis=1)
    spend[bad], engaged[bad] = BAD, BAD
    return spend, engaged


def read_numbers(texts: pd.Series) -> np.ndarray:
    """Numbers per row as written (N x K, NaN-padded; `BAD` where an item is not a finite number)."""
    return _numbers(_lists(texts))


def weights_text(w: np.ndarray) -> list[str]:
    """Weights (N x T, NaN-padded) as the `spread` column's text, 4 decimals."""
    return [" ".join(f"{v:.4g}" for v in row[np.isfinite(row)]) for row in np.asarray(w, float)]


def points_text(spend: np.ndarray, engaged: np.ndarray) -> list[str]:
    """Points (N x P, NaN-padded) as the `curve_points` column's text."""
    return [" ".join(f"{s:.10g}:{e:.10g}" for s, e in zip(rs, re, strict=True) if np.isfinite(s) and np.isfinite(e))
            for rs, re in zip(np.asarray(spend, float), np.asarray(engaged, float), strict=True)]


def continue_points(spend: np.ndarray, values: np.ndarray, factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (N x P, NaN-padded, sorted) with one more point on the rows whose factor is above 1: at factor x
    the last spend s_L, the last piece's slope continued, e(f s_L) = e_L + (f - 1) s_L (e_L - e_L-1) / (s_L - s_L-1).
    A row with one point continues the piece from (0, 0). Rows with factor <= 1 (or NaN) are as they were."""
    n = len(spend)
    if spend.ndim < 2 or spend.shape[1] == 0:  # no points at all
        return spend, values
    rows, count = np.arange(n), np.isfinite(spend).sum(axis=1)
    last, before = np.maximum(count - 1, 0), np.maximum(count - 2, 0)
    alone = count == 1  # one point: the piece from (0, 0) to it
    s_last = spend[rows, last]
    s_before, v_before = np.where(alone, 0.0, spend[rows, before]), np.where(alone, 0.0, values[rows, before])
    grow = (np.nan_to_num(np.asarray(factor, float), nan=1.0) > 1.0) & (count >= 1) & (s_last > s_before)
    if not grow.any():
        return spend, values
    s_new = np.nan_to_num(factor, nan=1.0) * s_last
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (values[rows, last] - v_before) / (s_last - s_before)
    new_values = values[rows, last] + slope * (s_new - s_last)

    def put(array: np.ndarray, new: np.ndarray) -> np.ndarray:
        out = np.concatenate([array, np.full((n, 1), np.nan)], axis=1)
        out[rows[grow], count[grow]] = new[grow]
        return out

    return put(spend, s_new), put(values, new_values)
