"""Private numba kernel of :mod:`lobutils.data.archives.bybit`: level strings to floats in bulk.

The reader joins a chunk's price and size strings with ``"\\n"`` and parses them here in one
call. Only plain decimals (digits with at most one ``.``, at most 18 digits) are converted; the
result is the correctly rounded double (an integer mantissa up to 2**53 divided by an exact
power of ten, Clinger's fast path), bit for bit what ``float()`` gives. Anything else (a sign,
an exponent, white space, ``nan``, a non-number) is flagged, and the reader converts those
strings with Python, as before.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["parse_decimals"]

_POW10 = np.array([10.0**i for i in range(23)])
_MAX_EXACT = 2**53


@njit(cache=True)
def parse_decimals(buf, out, flag):
    """Parse the ``"\\n"``-separated tokens of ``buf`` into ``out``.

    Parameters
    ----------
    buf : numpy.ndarray of uint8
        The joined strings, as bytes.
    out : numpy.ndarray of float64
        Receives token ``i`` at ``out[i]`` (NaN where flagged); tokens past its end are only
        counted.
    flag : numpy.ndarray of bool
        Set to True where token ``i`` is not a plain decimal, False elsewhere; as long as
        ``out``.

    Returns
    -------
    int
        The number of tokens; the caller compares it with the number of strings joined (a
        string holding ``"\\n"`` itself makes more tokens).

    Examples
    --------
    >>> buf = np.frombuffer(b"1.5\\n-2\\n0.10", dtype=np.uint8)
    >>> out, flag = np.empty(3), np.empty(3, bool)
    >>> parse_decimals(buf, out, flag), out[[0, 2]].tolist(), flag.tolist()
    (3, [1.5, 0.1], [False, True, False])
    """
    n = len(buf)
    cap = len(out)
    k = 0
    i = 0
    while True:
        mant = 0
        ndig = 0
        frac = 0
        dot = False
        ok = True
        while i < n:
            c = buf[i]
            if c == 10:
                break
            if 48 <= c <= 57:
                if ndig < 18:
                    mant = mant * 10 + (c - 48)
                ndig += 1
                if dot:
                    frac += 1
            elif c == 46 and not dot:
                dot = True
            else:
                ok = False
            i += 1
        if k < cap:
            if ok and 0 < ndig <= 18 and mant <= _MAX_EXACT and frac <= 22:
                out[k] = mant / _POW10[frac]
                flag[k] = False
            else:
                out[k] = np.nan
                flag[k] = True
        k += 1
        if i >= n:
            return k
        i += 1  # the separator
