"""API keys: read from the environment only, and masked in everything printed or logged.

Where an exchange wants a key, it comes from ``LOBUTILS_<EXCHANGE>_API_KEY``, ``..._SECRET`` and,
for exchanges that use them, ``..._PASSWORD`` and ``..._UID`` (:func:`api_credentials`). Every
value read is registered with one logging filter that masks it (``***``) in the records of the
collector's and ccxt's loggers (:func:`guard_loggers`), and :func:`redact` masks it in any text,
such as the command line's error messages.

Examples
--------
>>> creds = api_credentials("bybit", {"LOBUTILS_BYBIT_API_KEY": "key-123456"})
>>> redact("request failed with apiKey=key-123456")
'request failed with apiKey=***'
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping

__all__ = ["CREDENTIALS", "api_credentials", "guard_loggers", "redact"]

CREDENTIALS = {"API_KEY": "apiKey", "SECRET": "secret", "PASSWORD": "password", "UID": "uid"}
"""Environment-variable suffix -> ccxt constructor attribute."""

GUARDED_LOGGERS = ("ccxt.base.exchange", "ccxt", "lobutils.acquire.collect")
"""The loggers whose records are masked."""

_MIN_SECRET_LEN = 6


class _Redact(logging.Filter):
    """Masks registered secret values in log records (message and arguments)."""

    def __init__(self):
        super().__init__("lobutils-redact")
        self.secrets: set[str] = set()

    def redact(self, text: str) -> str:
        for s in self.secrets:
            if len(s) >= _MIN_SECRET_LEN:  # a one-letter "secret" would mask every word
                text = text.replace(s, "***")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            try:
                msg = record.getMessage()
            except Exception:  # pragma: no cover - a broken record: leave it to logging
                return True
            clean = self.redact(msg)
            if clean != msg:
                record.msg, record.args = clean, None
        return True


_REDACT = _Redact()


def guard_loggers() -> None:
    """Install the masking filter on :data:`GUARDED_LOGGERS` (once each).

    Returns
    -------
    None
    """
    for name in GUARDED_LOGGERS:
        lg = logging.getLogger(name)
        if _REDACT not in lg.filters:
            lg.addFilter(_REDACT)


def redact(text: str) -> str:
    """``text`` with every registered secret (of 6 characters or more) replaced by ``***``.

    Parameters
    ----------
    text
        Any text: an error message, a log line.

    Returns
    -------
    str
        The text, masked.
    """
    return _REDACT.redact(text)


def api_credentials(exchange: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """ccxt credentials for ``exchange`` from ``LOBUTILS_<EXCHANGE>_*`` environment variables.

    Only the variables that are set and non-empty are returned; an empty dict means public
    access. The values are registered for masking in logs.

    Parameters
    ----------
    exchange
        A ccxt exchange id; non-alphanumerics become ``_`` in the variable names.
    env
        The environment to read (default :data:`os.environ`).

    Returns
    -------
    dict
        ccxt constructor attributes (``apiKey``, ``secret``, ``password``, ``uid``) to values.

    Examples
    --------
    >>> env = {"LOBUTILS_BYBIT_API_KEY": "key-123456", "LOBUTILS_BYBIT_SECRET": "secret-123456"}
    >>> sorted(api_credentials("bybit", env))
    ['apiKey', 'secret']
    >>> api_credentials("kraken", env)
    {}
    """
    env = os.environ if env is None else env
    prefix = f"LOBUTILS_{re.sub(r'[^A-Za-z0-9]', '_', exchange).upper()}_"
    out = {}
    for suffix, attr in CREDENTIALS.items():
        value = env.get(prefix + suffix, "").strip()
        if value:
            out[attr] = value
            _REDACT.secrets.add(value)
    return out
