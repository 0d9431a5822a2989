"""Errors a user sees: one clear line naming the file, with secrets masked.

The command lines (:mod:`lobutils.runner.cli`, :mod:`lobutils.runner.chapters`) report bad
input as one line and a non-zero exit status, never a raw traceback:

:func:`describe`
    One line for an exception: an :class:`OSError` says what went wrong with which file
    ("permission denied", "is a directory"), other errors give their message.
:func:`redact`
    Masks secrets in text before it is printed: the values registered by
    :func:`lobutils.acquire.collect.api_credentials` and those of environment variables whose
    names say they hold a secret (``TARDIS_API_KEY``, ``LOBUTILS_<EXCHANGE>_SECRET``, ...).
:func:`load_yaml`
    ``yaml.safe_load`` of a file whose errors (syntax, a ``!!python`` tag) are one
    :class:`InputError` line with the file, line and column.
:func:`check_memory`
    Refuses, before allocating, an output that would not fit in memory, saying how much it
    would need.

Examples
--------
>>> redact("key abcdef123 leaked", env={"TARDIS_API_KEY": "abcdef123"})
'key *** leaked'
>>> describe(IsADirectoryError(21, "Is a directory", "/tmp"))
'/tmp: is a directory'
>>> format_bytes(2.5 * 2**40)
'2.5 TiB'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "InputError",
    "available_memory",
    "check_memory",
    "describe",
    "format_bytes",
    "load_yaml",
    "redact",
    "writable_output",
]

_SECRET_NAME = re.compile(r"(API_?KEY|SECRET|PASSWORD|TOKEN|PASSPHRASE|_UID$)", re.IGNORECASE)
_MIN_SECRET_LEN = 6  # shorter values would mask ordinary words


class InputError(ValueError):
    """Bad input a user can fix: the message is one line and names the file."""


def _secrets(env: Mapping[str, str] | None) -> set[str]:
    env = os.environ if env is None else env
    out = {v.strip() for k, v in env.items() if _SECRET_NAME.search(k) and v and v.strip()}
    try:
        from lobutils.acquire.redact import _REDACT

        out |= set(_REDACT.secrets)
    except ImportError:  # pragma: no cover - ccxt side missing: the environment still counts
        pass
    return {s for s in out if len(s) >= _MIN_SECRET_LEN}


def redact(text: str, env: Mapping[str, str] | None = None) -> str:
    """Mask every known secret in ``text`` with ``***``.

    Parameters
    ----------
    text
        What is about to be printed (an error message, a traceback).
    env
        The environment to take secret-looking variables from (default ``os.environ``).

    Returns
    -------
    str
        ``text`` with each secret value replaced.
    """
    for s in sorted(_secrets(env), key=len, reverse=True):
        text = text.replace(s, "***")
    return text


_OS_REASONS = {
    PermissionError: "permission denied",
    IsADirectoryError: "is a directory",
    NotADirectoryError: "a part of the path is not a directory",
    FileNotFoundError: "no such file or directory",
    FileExistsError: "already exists",
}


def describe(exc: BaseException) -> str:
    """One line describing ``exc`` for a user, naming the file where there is one.

    Parameters
    ----------
    exc
        The exception.

    Returns
    -------
    str
        ``"<file>: <reason>"`` for an :class:`OSError` with a file name; the message (its
        first line) otherwise, or the exception's type when it has no message.
    """
    if isinstance(exc, MemoryError):
        return f"out of memory ({exc})" if str(exc) else "out of memory"
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        reason = next(
            (r for t, r in _OS_REASONS.items() if isinstance(exc, t)), exc.strerror.lower()
        )
        return f"{exc.filename}: {reason}"
    text = str(exc).strip()
    if isinstance(exc, KeyError) and text:
        text = f"missing key {text}"
    if not text:
        return type(exc).__name__
    return " ".join(text.split("\n"))


def load_yaml(path: str | os.PathLike, what: str = "YAML file") -> Any:
    """``yaml.safe_load`` a file; every failure is one :class:`InputError` line.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for the message (e.g. ``"--params-file"``).

    Returns
    -------
    object
        The loaded document (``None`` for an empty file).

    Raises
    ------
    InputError
        The file cannot be read, is not valid YAML, or uses a tag that safe loading refuses
        (``!!python/object``...), with ``file:line:column``.

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "bad.yaml"
    >>> _ = p.write_text("a: !!python/object/apply:os.system ['true']\\n")
    >>> try:
    ...     load_yaml(p, "grid")
    ... except InputError as e:
    ...     print(str(e).split(": ", 1)[1])
    grid: not safe YAML (line 1, column 4): a Python tag (tag:yaml.org,2002:python/object/apply:os.system) is not allowed
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, UnicodeDecodeError):
            raise InputError(f"{path}: {what}: not a UTF-8 text file") from None
        raise InputError(f"{what}: {describe(exc)}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).split("\n")[0]
        tag = re.search(r"tag '([^']*python[^']*)'", str(exc))
        if tag:
            raise InputError(
                f"{path}: {what}: not safe YAML{where}: a Python tag ({tag.group(1)}) is not "
                "allowed"
            ) from None
        raise InputError(f"{path}: {what}: YAML syntax error{where}: {problem}") from None


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, e.g. ``'21.7 GiB'``.

    Parameters
    ----------
    n
        A byte count.

    Returns
    -------
    str
    """
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError  # pragma: no cover


def available_memory() -> int:
    """Bytes of memory available to a new allocation (``MemAvailable``, else free pages).

    Returns
    -------
    int
        The estimate; a large number where the platform says nothing.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not a POSIX system
        return 1 << 62


def check_memory(nbytes: float, what: str, limit: float | None = None) -> None:
    """Refuse an allocation of ``nbytes`` that would not fit, before making it.

    Parameters
    ----------
    nbytes
        The estimated size.
    what
        What asks for it, for the message (e.g. ``"--levels 100000 over 1,234 messages"``).
    limit
        The most allowed (default 80 % of :func:`available_memory`).

    Returns
    -------
    None

    Raises
    ------
    InputError
        ``nbytes`` exceeds the limit; the message gives both.

    Examples
    --------
    >>> check_memory(1e6, "a small frame", limit=1e9)
    >>> check_memory(2.5 * 2**40, "--grid 1us", limit=2**30)
    Traceback (most recent call last):
    ...
    lobutils.runner.errors.InputError: --grid 1us would need about 2.5 TiB of memory; 1.0 GiB is available
    """
    limit = 0.8 * available_memory() if limit is None else limit
    if nbytes > limit:
        raise InputError(
            f"{what} would need about {format_bytes(nbytes)} of memory; "
            f"{format_bytes(limit)} is available"
        )


def writable_output(out: str | os.PathLike, suffixes: tuple[str, ...] = (".parquet", ".csv")):
    """Check, before any work, that an output file can be written; one line if not.

    The nearest existing folder above ``out`` must be a writable directory (folders missing
    below it are created on writing), and ``out`` itself must not be a directory.

    Parameters
    ----------
    out
        The output file.
    suffixes
        The extensions allowed.

    Returns
    -------
    pathlib.Path
        ``out``.

    Raises
    ------
    InputError
        The extension, a directory in the way, or a folder that cannot be written.
    """
    import tempfile

    out = Path(out)
    if out.suffix.lower() not in suffixes:
        raise InputError(f"{out}: --out must end in {' or '.join(suffixes)}")
    if out.is_dir():
        raise InputError(f"{out}: --out is a directory; give a file name")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{out}: cannot create it, {parent} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(prefix=".lobutils-probe-", dir=parent)
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise InputError(f"{out}: cannot write in {parent} ({reason})") from None
    os.close(fd)
    os.unlink(probe)
    return out
