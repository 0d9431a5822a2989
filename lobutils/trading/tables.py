"""Narrow, formatted tables for the trading chapters' pages.

A chapter shows the columns that matter, integers as integers, timestamps as times of day
and small floats with a few digits; the full tables go to its report directory.
:func:`book_table` does the formatting in one place.

Examples
--------
>>> t = pd.DataFrame({"segment": ["a"], "n": [3.0], "pnl_bps": [-1.23456],
...                   "hit": [0.5], "ts": [3_723 * 10**9]})
>>> book_table(t, ints=["n"], pcts=["hit"], times=["ts"], index="segment").values.tolist()
[['3', '-1.23', '50%', '01:02:03']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["book_table"]


def book_table(
    df: pd.DataFrame,
    columns: Sequence[str] | None = None,
    *,
    index: str | Sequence[str] | None = None,
    digits: int | Mapping[str, int] = 2,
    ints: Sequence[str] = (),
    pcts: Sequence[str] = (),
    times: Sequence[str] = (),
    sci: Sequence[str] = (),
    rename: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """A table for the page: chosen columns, formatted as text.

    Parameters
    ----------
    df : pandas.DataFrame
        The full table.
    columns : sequence of str, optional
        The columns to show (default: all), in this order; ``index`` columns need not be
        listed.
    index : str or sequence of str, optional
        Columns that become the index (e.g. ``"segment"``).
    digits : int or mapping of str to int
        Decimals of float columns (one number, or per column; default 2 for the others).
    ints, pcts, times : sequence of str
        Columns shown as integers, as percentages (no decimals) and as times of day
        (``%H:%M:%S``, UTC, from int64 ns).
    sci : sequence of str
        Columns shown in scientific notation with three significant digits.
    rename : mapping of str to str, optional
        Column headers to show instead.

    Returns
    -------
    pandas.DataFrame
        Strings; NaN as an en dash.
    """
    keep = list(df.columns if columns is None else columns)
    idx = [index] if isinstance(index, str) else list(index or [])
    t = df[[*idx, *[c for c in keep if c not in idx]]].copy()
    if idx:
        t = t.set_index(idx)
    per = digits if isinstance(digits, Mapping) else {}
    default = 2 if isinstance(digits, Mapping) else int(digits)
    for c in t.columns:
        v = t[c]
        if v.dtype == object:  # e.g. the columns of a transposed table of mixed rows
            num = pd.to_numeric(v, errors="coerce")
            if num.notna().sum() == v.notna().sum():
                v = num
        if c in times:
            t[c] = pd.to_datetime(v.astype("int64"), unit="ns", utc=True).dt.strftime("%H:%M:%S")
        elif c in ints:
            t[c] = [("–" if pd.isna(x) else str(int(round(float(x))))) for x in v]
        elif c in sci:
            t[c] = [("–" if pd.isna(x) else f"{float(x):.2e}") for x in v]
        elif c in pcts:
            t[c] = [("–" if pd.isna(x) else f"{float(x):.0%}") for x in v]
        elif pd.api.types.is_bool_dtype(v) or not pd.api.types.is_numeric_dtype(v):
            t[c] = v.astype(str)
        elif pd.api.types.is_integer_dtype(v):
            t[c] = v.astype(str)
        else:
            d = per.get(c, default)
            t[c] = [("–" if not np.isfinite(float(x)) else f"{float(x):.{d}f}") for x in v]
    return t.rename(columns=dict(rename or {}))
