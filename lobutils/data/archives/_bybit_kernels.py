"""Private numba kernel of :mod:`lobutils.data.catalog.archives.bybit`: level strings to floats in bulk.

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

_POW10 = np.array([10.0**i for i in range(23)])
_MAX_EXACT = 2**53


@njit(cache=True)
def parse_decimals(buf, out, flag):
    """Parse the ``"\\n"``-separated tokens of ``buf`` (uint8) into ``out``.

    ``flag[i]`` is set where token ``i`` is not a plain decimal (``out[i]`` is then NaN).
    Returns the number of tokens; the caller compares it with the number of strings joined
    (a string holding ``"\\n"`` itself makes more tokens).
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
