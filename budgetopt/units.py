"""The words every figure uses, in the CLI, the app and every export: the two engagement measures, and money
with its currency.

- **engaged customers**: the count of customers engaged (the `engaged` column, summed as it is).
- **weighted engagement**: sum of value x engaged customers, where a `value` column weights a customer at one
  touchpoint above another. When every value is 1 it equals the count, and only "engaged customers" is shown.
- **money**: amounts in the data's currency, taken from the spend header (`Cost (EUR)`), the currency signs
  in the spend cells (`€ 12 000`), a scenario's `currency` key or `--currency`; when none says, amounts are
  shown without one (and never called dollars).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from .cells import held

CUSTOMERS = "engaged customers"
WEIGHTED = "weighted engagement"
LEGEND = ("engaged customers: a count; weighted engagement: value x engaged customers, where a value column "
          "weights customers at some touchpoints above others")
"""The two engagement figures in one line, printed beside them in the CLI and on the workbook's Summary sheet."""

CURRENCY_CODES = ("EUR", "USD", "GBP", "CHF", "JPY", "CNY", "INR", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "CAD",
                  "AUD", "NZD")
SIGNS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "₹": "INR"}
_CODE = re.compile(r"(?<![A-Za-z])(" + "|".join(CURRENCY_CODES) + r")(?![A-Za-z])", re.IGNORECASE)
_SIGN = re.compile("[" + re.escape("".join(SIGNS)) + "]")


def measure(weighted: bool) -> str:
    """The name of the engagement figure a plan optimises: weighted engagement when values differ, else the count."""
    return WEIGHTED if weighted else CUSTOMERS


def is_weighted(values: Iterable[float] | np.ndarray | pd.Series) -> bool:
    """True when some touchpoint's value is not 1 (weighted engagement then differs from the count)."""
    v = np.asarray(values, dtype=float)
    return bool(len(v)) and not np.allclose(v, 1.0, rtol=0.0, atol=1e-12)


def currency_code(text: object) -> str | None:
    """A currency named in a header or a cell: 'Cost (EUR)' -> 'EUR', '€ 12 000' -> 'EUR', else None."""
    text = "" if text is None else str(text)[:200]
    code = _CODE.search(text)
    if code:
        return code.group(1).upper()
    sign = _SIGN.search(text)
    return SIGNS[sign.group(0)] if sign else None


def currency_of(header: object, cells: pd.Series | None = None) -> str | None:
    """The currency of a money column: its header's, else the one most of its cells name (None if none does)."""
    found = currency_code(header)
    if found or cells is None or cells.empty or not _may_name_currency(cells):
        return found
    text = cells.astype("string").str.slice(0, 40)
    codes = text.str.extract(_CODE, expand=False).str.upper()
    signs = text.str.extract(f"({_SIGN.pattern})", expand=False).map(SIGNS)
    named = codes.fillna(signs).dropna()
    return str(named.mode().iloc[0]) if len(named) else None


_MAYBE = "(?i)" + "|".join(CURRENCY_CODES) + r"|\$|[^\x00-\x7f]"
"""What a cell naming a currency contains, for Arrow's regular expressions (no lookbehind): a code in any case, the
dollar, or any character beyond ASCII (the other signs, and letters that match ASCII ones when case is ignored)."""


def _may_name_currency(cells: pd.Series) -> bool:
    """False when no cell can name a currency: a quick look in Arrow at a column of Arrow text (else True)."""
    import pyarrow.compute as pc

    arrow = held(cells)
    if arrow is None or not pd.api.types.is_string_dtype(cells) or pd.api.types.is_object_dtype(cells):
        return True
    return bool(pc.any(pc.match_substring_regex(arrow, _MAYBE)).as_py())


def check_currency(code: str | None) -> str | None:
    """A currency as a scenario or a flag gives it: three letters, upper case ('eur' -> 'EUR'); None stays None."""
    if code is None:
        return None
    text = str(code).strip()
    if text in SIGNS:
        return SIGNS[text]
    if not re.fullmatch(r"[A-Za-z]{3}", text):
        raise ValueError(f"currency '{code}' is not a three-letter code; write e.g. EUR, USD or GBP")
    return text.upper()


def money(x: float | None, currency: str | None = None, digits: int = 0) -> str:
    """14045000.4 -> '14,045,000 EUR' (no currency: '14,045,000'); NaN -> '–'; infinity -> 'unlimited'."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if math.isinf(x):
        return "unlimited"
    text = f"{x:,.{digits}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return f"{text} {currency}" if currency else text


def money_texts(values: np.ndarray | Iterable[float], currency: str | None = None) -> list[str]:
    """`money(x, currency)` of many amounts at once (the same text): one format call per amount, the special cases
    (NaN, infinity, a negative amount that rounds to 0) settled on the whole array."""
    x = np.asarray(values, dtype=float)
    finite = np.isfinite(x)
    tail = f" {currency}" if currency else ""
    text = [f"{v:,.0f}{tail}" for v in np.where(finite, x, 0.0).tolist()]
    odd = np.flatnonzero(~finite | (np.signbit(x) & (x > -1)))  # -0.4 formats as "-0": money writes "0"
    for i in odd.tolist():
        text[i] = money(float(x[i]), currency)
    return text


def per(amount: float, currency: str | None) -> str:
    """'1,000 EUR' or '1,000' (of money): the unit a price is quoted per."""
    return money(amount, currency) + ("" if currency else " of money")


_PLAIN_AMOUNT = re.compile(r"-?(?:0|[1-9][0-9]{0,14}|[1-9][0-9]{0,2}(?:,[0-9]{3}){1,4})(?:\.[0-9]{1,2})?")
"""An amount as the app's budget box shows it ('272,426,326', '1200.50'): digits, comma groups of three, up to two
decimals after a point. It reads one way only, the way the column reader reads it (tested), so `float` reads it
without the column reader's machinery (~30 ms for one cell, on every budget typed)."""


def parse_amount(text: str) -> float:
    """An amount as a person types it on the command line or in a box: '9,000,000', '9.000.000', '9 000 000 EUR',
    '9000000.50'; raise ValueError saying what was not understood."""
    text = str(text)
    if _PLAIN_AMOUNT.fullmatch(text):
        return float(text.replace(",", ""))
    return _read_amount(text)


def _read_amount(text: str) -> float:
    """parse_amount by the column reader (amounts.parse_numbers): every shape, sign and currency it knows."""
    from .amounts import parse_numbers

    bare = re.sub(r"[\s\u00a0'’_]|" + _CODE.pattern + "|" + _SIGN.pattern, "", text, flags=re.IGNORECASE)
    if re.fullmatch(r"-?[1-9][0-9]{0,2}[.,][0-9]{3}", bare):  # 90.000 or 90,000: money has no 3 decimals
        text = bare.replace(".", "").replace(",", "")
    value = parse_numbers(pd.Series([text], dtype=object)).iloc[0]
    if pd.isna(value):
        raise ValueError(f"'{text}' is not an amount; write it like 9000000, 9,000,000 or 9 000 000")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"'{text}' is not a finite amount")
    return value
