"""Byte-level parser for Binance combined-stream recordings (private numba kernels).

Each line is ``<local timestamp> <JSON>``. The kernel walks the JSON of the common stream
messages (``depthUpdate`` diffs, ``trade``, ``bookTicker``) without building Python objects,
and leaves everything else (the REST snapshot, unused streams' names, anything unusual) to the
pure-Python path in :mod:`lobutils.data.binance`, which is also the reference it is tested against.

The walker is a real (if partial) JSON scanner: keys may come in any order, white space may
appear between tokens, and values it does not need are skipped structurally. Numbers may be
quoted or bare. A number it cannot convert exactly (an exponent, more than 17 significant
digits) sends the line to the Python path instead of guessing. So does a value the reader
refuses (a price <= 0, a negative size, a trade size <= 0): the Python path then names the
reason, and the kernel never has to build an error message.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "BBO",
    "BLANK",
    "DEPTH",
    "FALLBACK",
    "OTHER_STREAM",
    "OTHER_SYMBOL",
    "TRADE",
    "parse_lines",
]

# line codes
BLANK = 0
DEPTH = 1
TRADE = 2
BBO = 3
OTHER_STREAM = 4  # a stream this reader does not use (counted by name)
OTHER_SYMBOL = 5  # a stream of another symbol than the one asked for
FALLBACK = 6  # not handled here: the Python path decides (snapshot, odd number, malformed)

# data keys
K_OTHER, K_E, K_T, K_U, K_u, K_pu, K_b, K_a, K_t, K_p, K_q, K_m, K_B, K_A = range(14)

_POW10 = np.array([10.0**i for i in range(23)])
_MAX_EXACT = 2**53
_INT64_MAX = 2**63 - 1

_QUOTE = 34  # "
_BSLASH = 92
_LBRACE, _RBRACE, _LBRACK, _RBRACK = 123, 125, 91, 93
_COLON, _COMMA, _MINUS, _DOT, _AT = 58, 44, 45, 46, 64


@njit(cache=True, inline="always")
def _ws(buf, i, end):
    while i < end and (buf[i] == 32 or buf[i] == 9 or buf[i] == 13):
        i += 1
    return i


@njit(cache=True)
def _skip_string(buf, i, end):
    """``buf[i]`` is an opening quote; return the index after the closing one, or -1."""
    i += 1
    while i < end:
        c = buf[i]
        if c == _BSLASH:
            i += 2
            continue
        if c == _QUOTE:
            return i + 1
        i += 1
    return -1


@njit(cache=True)
def _skip_value(buf, i, end):
    """Skip one JSON value starting at ``i``; return the index after it, or -1."""
    if i >= end:
        return -1
    c = buf[i]
    if c == _QUOTE:
        return _skip_string(buf, i, end)
    if c == _LBRACE or c == _LBRACK:
        depth = 0
        while i < end:
            c = buf[i]
            if c == _QUOTE:
                i = _skip_string(buf, i, end)
                if i < 0:
                    return -1
                continue
            if c == _LBRACE or c == _LBRACK:
                depth += 1
            elif c == _RBRACE or c == _RBRACK:
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return -1
    # number or literal: up to the next delimiter
    start = i
    while i < end:
        c = buf[i]
        if c == _COMMA or c == _RBRACE or c == _RBRACK or c == 32 or c == 9 or c == 13:
            break
        i += 1
    return i if i > start else -1


@njit(cache=True)
def _parse_decimal(buf, i, end):
    """Parse a decimal number, quoted or bare, at ``i``.

    Returns ``(value, next_index)``; ``next_index == -1`` when the text is not a plain decimal
    that converts exactly (the caller then falls back to Python). The value is the correctly
    rounded double: an integer mantissa below 2**53 divided by an exact power of ten.
    """
    quoted = False
    if i < end and buf[i] == _QUOTE:
        quoted = True
        i += 1
    neg = False
    if i < end and buf[i] == _MINUS:
        neg = True
        i += 1
    mant = 0
    ndig = 0
    frac = 0
    seen_dot = False
    trailing_zeros = 0
    start = i
    while i < end:
        c = buf[i]
        if 48 <= c <= 57:
            d = c - 48
            if ndig > 0 or d != 0:
                ndig += 1
            if ndig > 18:
                return 0.0, -1
            mant = mant * 10 + d
            if seen_dot:
                frac += 1
                if d == 0:
                    trailing_zeros += 1
                else:
                    trailing_zeros = 0
        elif c == _DOT and not seen_dot:
            seen_dot = True
        else:
            break
        i += 1
    if i == start or (seen_dot and i == start + 1):
        return 0.0, -1
    if quoted:
        if i >= end or buf[i] != _QUOTE:
            return 0.0, -1
        i += 1
    elif i < end and (buf[i] == 101 or buf[i] == 69):  # exponent: let Python do it
        return 0.0, -1
    for _ in range(trailing_zeros):
        mant //= 10
    frac -= trailing_zeros
    if mant >= _MAX_EXACT or frac > 22:
        return 0.0, -1
    v = mant / _POW10[frac]
    return (-v if neg else v), i


@njit(cache=True)
def _parse_int(buf, i, end):
    """Parse an integer, quoted or bare; returns ``(value, next_index)`` or ``(0, -1)``."""
    quoted = False
    if i < end and buf[i] == _QUOTE:
        quoted = True
        i += 1
    neg = False
    if i < end and buf[i] == _MINUS:
        neg = True
        i += 1
    v = 0
    start = i
    while i < end and 48 <= buf[i] <= 57:
        d = buf[i] - 48
        if v > (_INT64_MAX - d) // 10:  # would overflow int64
            return 0, -1
        v = v * 10 + d
        i += 1
    if i == start:
        return 0, -1
    if quoted:
        if i >= end or buf[i] != _QUOTE:
            return 0, -1
        i += 1
    return (-v if neg else v), i


@njit(cache=True)
def _key_code(buf, ks, ke):
    """Code of a data key whose characters are ``buf[ks:ke]`` (without quotes)."""
    n = ke - ks
    if n == 1:
        c = buf[ks]
        if c == 69:
            return K_E
        if c == 84:
            return K_T
        if c == 85:
            return K_U
        if c == 117:
            return K_u
        if c == 98:
            return K_b
        if c == 97:
            return K_a
        if c == 116:
            return K_t
        if c == 112:
            return K_p
        if c == 113:
            return K_q
        if c == 109:
            return K_m
        if c == 66:
            return K_B
        if c == 65:
            return K_A
    elif n == 2 and buf[ks] == 112 and buf[ks + 1] == 117:
        return K_pu
    return K_OTHER


@njit(cache=True)
def _stream_kind(buf, ss, se, sym, sym_len):
    """Classify a stream name ``buf[ss:se]`` such as ``btcusdt@depth@100ms``.

    Returns ``(code, symbol_end)``; ``sym[:sym_len]`` is the expected symbol (length 0: any).
    """
    at = -1
    for k in range(ss, se):
        if buf[k] == _AT:
            at = k
            break
    if at < 0:
        return OTHER_STREAM, se
    if sym_len > 0:
        if at - ss != sym_len:
            return OTHER_SYMBOL, at
        for k in range(sym_len):
            if buf[ss + k] != sym[k]:
                return OTHER_SYMBOL, at
    n = se - at - 1
    s = at + 1
    # "depth" exactly, or "depth@<speed>"; "depth20@100ms" is a partial-book stream: not diffs
    if (
        n >= 5
        and buf[s] == 100
        and buf[s + 1] == 101
        and buf[s + 2] == 112
        and buf[s + 3] == 116
        and buf[s + 4] == 104
    ):
        if n == 5 or buf[s + 5] == _AT:
            return DEPTH, at
        return OTHER_STREAM, at
    if (
        n == 5
        and buf[s] == 116
        and buf[s + 1] == 114
        and buf[s + 2] == 97
        and buf[s + 3] == 100
        and buf[s + 4] == 101
    ):
        return TRADE, at
    if n == 10:
        word = (98, 111, 111, 107, 84, 105, 99, 107, 101, 114)  # bookTicker
        ok = True
        for k in range(10):
            if buf[s + k] != word[k]:
                ok = False
                break
        if ok:
            return BBO, at
    return OTHER_STREAM, at


@njit(cache=True)
def _parse_levels(buf, i, end, side, lv_side, lv_px, lv_qty, nlv):
    """Parse ``[["p","q"], ...]`` at ``i`` into the level arrays from row ``nlv``.

    Returns ``(next_index, new_nlv)``; next_index is -1 on anything unexpected.
    """
    if i >= end or buf[i] != _LBRACK:
        return -1, nlv
    i = _ws(buf, i + 1, end)
    if i < end and buf[i] == _RBRACK:
        return i + 1, nlv
    cap = lv_px.shape[0]
    while i < end:
        if buf[i] != _LBRACK:
            return -1, nlv
        i = _ws(buf, i + 1, end)
        p, i = _parse_decimal(buf, i, end)
        if i < 0:
            return -1, nlv
        i = _ws(buf, i, end)
        if i >= end or buf[i] != _COMMA:
            return -1, nlv
        i = _ws(buf, i + 1, end)
        q, i = _parse_decimal(buf, i, end)
        if i < 0:
            return -1, nlv
        i = _ws(buf, i, end)
        if i >= end or buf[i] != _RBRACK:
            return -1, nlv
        if not (p > 0.0) or q < 0.0:  # an invalid level: the Python path names the reason
            return -1, nlv
        if nlv >= cap:
            return -2, nlv
        lv_side[nlv] = side
        lv_px[nlv] = p
        lv_qty[nlv] = q
        nlv += 1
        i = _ws(buf, i + 1, end)
        if i < end and buf[i] == _COMMA:
            i = _ws(buf, i + 1, end)
            continue
        if i < end and buf[i] == _RBRACK:
            return i + 1, nlv
        return -1, nlv
    return -1, nlv


@njit(cache=True)
def _parse_data(buf, i, end, kind, out_i, out_f, lv_side, lv_px, lv_qty, nlv):
    """Walk the ``data`` object of a stream message of the given kind.

    ``out_i`` receives E, T, id1, id2, id3, m; ``out_f`` p/q or b/B/a/A.
    Returns ``(ok, new_nlv, end)``: ok is 1 on success, 0 to fall back, -2 on a full level
    buffer; ``end`` is the index after the object's closing brace.
    """
    for k in range(6):
        out_i[k] = -1
    for k in range(4):
        out_f[k] = np.nan
    nlv0 = nlv
    if buf[i] != _LBRACE:
        return 0, nlv0, -1
    i = _ws(buf, i + 1, end)
    if i < end and buf[i] == _RBRACE:
        return 0, nlv0, -1
    got_b = False
    got_a = False
    while i < end:
        if buf[i] != _QUOTE:
            return 0, nlv0, -1
        ks = i + 1
        j = _skip_string(buf, i, end)
        if j < 0:
            return 0, nlv0, -1
        ke = j - 1
        i = _ws(buf, j, end)
        if i >= end or buf[i] != _COLON:
            return 0, nlv0, -1
        i = _ws(buf, i + 1, end)
        key = _key_code(buf, ks, ke)
        if key == K_E:
            out_i[0], i = _parse_int(buf, i, end)
        elif key == K_T:
            out_i[1], i = _parse_int(buf, i, end)
        elif kind == DEPTH and key == K_U:
            out_i[2], i = _parse_int(buf, i, end)
        elif (kind == DEPTH or kind == BBO) and key == K_u:
            out_i[3], i = _parse_int(buf, i, end)
        elif kind == DEPTH and key == K_pu:
            out_i[4], i = _parse_int(buf, i, end)
        elif kind == DEPTH and (key == K_b or key == K_a):
            side = 1 if key == K_b else -1
            if (side == 1 and got_b) or (side == -1 and got_a):
                return 0, nlv0, -1
            i, nlv = _parse_levels(buf, i, end, side, lv_side, lv_px, lv_qty, nlv)
            if i == -2:
                return -2, nlv0, -1
            if side == 1:
                got_b = True
            else:
                got_a = True
        elif kind == TRADE and key == K_t:
            out_i[2], i = _parse_int(buf, i, end)
        elif kind == TRADE and key == K_p:
            out_f[0], i = _parse_decimal(buf, i, end)
        elif kind == TRADE and key == K_q:
            out_f[1], i = _parse_decimal(buf, i, end)
        elif kind == TRADE and key == K_m:
            if (
                i + 4 <= end
                and buf[i] == 116
                and buf[i + 1] == 114
                and buf[i + 2] == 117
                and buf[i + 3] == 101
            ):
                out_i[5] = 1
                i += 4
            elif (
                i + 5 <= end
                and buf[i] == 102
                and buf[i + 1] == 97
                and buf[i + 2] == 108
                and buf[i + 3] == 115
                and buf[i + 4] == 101
            ):
                out_i[5] = 0
                i += 5
            else:
                return 0, nlv0, -1
        elif kind == BBO and key == K_b:
            out_f[0], i = _parse_decimal(buf, i, end)
        elif kind == BBO and key == K_B:
            out_f[1], i = _parse_decimal(buf, i, end)
        elif kind == BBO and key == K_a:
            out_f[2], i = _parse_decimal(buf, i, end)
        elif kind == BBO and key == K_A:
            out_f[3], i = _parse_decimal(buf, i, end)
        else:
            i = _skip_value(buf, i, end)
        if i < 0:
            return 0, nlv0, -1
        i = _ws(buf, i, end)
        if i < end and buf[i] == _COMMA:
            i = _ws(buf, i + 1, end)
            continue
        if i < end and buf[i] == _RBRACE:
            i += 1
            break
        return 0, nlv0, -1
    else:
        return 0, nlv0, -1
    # required fields per kind; anything missing goes to the Python path for a proper message
    if kind == DEPTH:
        if out_i[0] < 0 or out_i[2] < 0 or out_i[3] < 0 or not (got_b and got_a):
            return 0, nlv0, -1
        if nlv == nlv0:  # a diff with no level still advances the update-id chain
            if nlv >= lv_px.shape[0]:
                return -2, nlv0, -1
            lv_side[nlv] = 0
            lv_px[nlv] = np.nan
            lv_qty[nlv] = np.nan
            nlv += 1
    elif kind == TRADE:
        # a missing price or size is NaN here; a trade's price and size must be > 0
        if out_i[1] < 0 or out_i[2] < 0 or out_i[5] < 0 or not (out_f[0] > 0.0 and out_f[1] > 0.0):
            return 0, nlv0, -1
    else:
        # quotes: prices > 0, sizes >= 0 (NaN, a missing field, fails both)
        if out_i[3] < 0 or not (
            out_f[0] > 0.0 and out_f[1] >= 0.0 and out_f[2] > 0.0 and out_f[3] >= 0.0
        ):
            return 0, nlv0, -1
    return 1, nlv, i


@njit(cache=True)
def parse_lines(buf, line_start, line_end, sym, sym_len, lv_cap):
    """Parse every line of ``buf``.

    Parameters
    ----------
    buf : numpy.ndarray of uint8
        The file's bytes.
    line_start, line_end : numpy.ndarray of int64
        Byte offsets of each line's first byte and one past its last (newline excluded).
    sym : numpy.ndarray of uint8
        The symbol asked for, as bytes (``sym[:sym_len]``; length 0: any symbol).
    sym_len : int
        Number of bytes of ``sym`` to compare.
    lv_cap : int
        Capacity of the level arrays: at least the number of price levels in ``buf``.

    Returns
    -------
    code : numpy.ndarray of int8
        Per line, one of :data:`BLANK`, :data:`DEPTH`, :data:`TRADE`, :data:`BBO`,
        :data:`OTHER_STREAM`, :data:`OTHER_SYMBOL` or :data:`FALLBACK` (left to the Python path).
    local : numpy.ndarray of int64
        Per line, the local timestamp as written (unit not yet detected; -1 when unread).
    ints : numpy.ndarray of int64, shape (n, 6)
        Per line, ``E`` and ``T`` (exchange times, ms), three ids (trade: ``t``; depth: ``U``,
        ``u``, ``pu``; ``bookTicker``: ``u`` in column 3) and the trade's ``m`` flag; -1 absent.
    floats : numpy.ndarray of float64, shape (n, 4)
        Per line, a trade's price and size, or the ``bookTicker``'s bid price and size, ask
        price and size; NaN absent.
    lv_first, lv_count : numpy.ndarray of int64
        Per depth line, its first row in the level arrays and its number of levels.
    stream_span : numpy.ndarray of int64, shape (n, 2)
        Per line, the byte span of the ``stream`` name.
    lv_side : numpy.ndarray of int8
        Side of each level (1 bid, -1 ask; 0 with NaN price and size marks a diff without
        levels, which still advances the update-id chain); the first ``n_levels`` are filled.
    lv_px, lv_qty : numpy.ndarray of float64
        Price and size of each level.
    n_levels : int
        Levels filled, or -1 when ``lv_cap`` was too small.
    """
    n = line_start.shape[0]
    code = np.empty(n, np.int8)
    local = np.full(n, -1, np.int64)
    ints = np.full((n, 6), -1, np.int64)
    floats = np.full((n, 4), np.nan, np.float64)
    lv_first = np.zeros(n, np.int64)
    lv_count = np.zeros(n, np.int64)
    span = np.zeros((n, 2), np.int64)
    lv_side = np.empty(lv_cap, np.int8)
    lv_px = np.empty(lv_cap, np.float64)
    lv_qty = np.empty(lv_cap, np.float64)
    nlv = 0
    for r in range(n):
        i = line_start[r]
        end = line_end[r]
        i = _ws(buf, i, end)
        if i >= end:
            code[r] = BLANK
            continue
        code[r] = FALLBACK
        t, i = _parse_int(buf, i, end)
        if i < 0 or i >= end or buf[i] != 32:
            continue
        local[r] = t
        i = _ws(buf, i, end)
        if i >= end or buf[i] != _LBRACE:
            continue
        i = _ws(buf, i + 1, end)
        ss = -1
        se = -1
        ds = -1
        de = -1
        done = 0
        nlv2 = nlv
        ok = True
        while i < end:
            if buf[i] != _QUOTE:
                ok = False
                break
            ks = i + 1
            j = _skip_string(buf, i, end)
            if j < 0:
                ok = False
                break
            ke = j - 1
            i = _ws(buf, j, end)
            if i >= end or buf[i] != _COLON:
                ok = False
                break
            i = _ws(buf, i + 1, end)
            vs = i
            is_stream = (
                ke - ks == 6 and buf[ks] == 115 and buf[ks + 1] == 116 and buf[ks + 2] == 114
            )
            is_data = ke - ks == 4 and buf[ks] == 100 and buf[ks + 1] == 97 and buf[ks + 2] == 116
            kind = OTHER_STREAM
            if is_data and ss >= 0:
                kind, _ = _stream_kind(buf, ss, se, sym, sym_len)
            if kind == DEPTH or kind == TRADE or kind == BBO:
                # the stream is known (Binance sends it first): parse the data in one pass
                res, nlv2, i = _parse_data(
                    buf, vs, end, kind, ints[r], floats[r], lv_side, lv_px, lv_qty, nlv
                )
                if res == -2:
                    return (
                        code,
                        local,
                        ints,
                        floats,
                        lv_first,
                        lv_count,
                        span,
                        lv_side,
                        lv_px,
                        lv_qty,
                        -1,
                    )
                if res != 1:
                    ok = False
                    break
                done = kind
            else:
                i = _skip_value(buf, i, end)
            if i < 0:
                ok = False
                break
            if is_stream:
                if buf[vs] != _QUOTE:
                    ok = False
                    break
                ss = vs + 1
                se = i - 1
            elif is_data:
                ds = vs
                de = i
            i = _ws(buf, i, end)
            if i < end and buf[i] == _COMMA:
                i = _ws(buf, i + 1, end)
                continue
            if i < end and buf[i] == _RBRACE:
                i = _ws(buf, i + 1, end)
                if i != end:
                    ok = False
                break
            ok = False
            break
        else:
            ok = False
        if not ok or ss < 0 or ds < 0:
            continue
        span[r, 0] = ss
        span[r, 1] = se
        if done != 0:
            code[r] = done
            lv_first[r] = nlv
            lv_count[r] = nlv2 - nlv
            nlv = nlv2
            continue
        kind, _ = _stream_kind(buf, ss, se, sym, sym_len)
        if kind == OTHER_STREAM or kind == OTHER_SYMBOL:
            code[r] = kind
            continue
        # "data" came before "stream": parse it now that the stream is known
        res, nlv2, _ = _parse_data(
            buf, ds, de, kind, ints[r], floats[r], lv_side, lv_px, lv_qty, nlv
        )
        if res == -2:
            return code, local, ints, floats, lv_first, lv_count, span, lv_side, lv_px, lv_qty, -1
        if res == 1:
            code[r] = kind
            lv_first[r] = nlv
            lv_count[r] = nlv2 - nlv
            nlv = nlv2
    return code, local, ints, floats, lv_first, lv_count, span, lv_side, lv_px, lv_qty, nlv
