"""Dask: the client every batch runs on, and mapping a function over partitions of a lake.

:func:`dask_client` opens a :class:`~distributed.LocalCluster` sized to the machine, or connects
to a scheduler; :func:`map_partitions` maps a function over items (e.g. the (exchange, symbol,
day) partitions of :func:`lake_items`) with a progress bar, failures collected.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = ["PartitionResult", "dask_client", "lake_items", "map_partitions"]


@contextmanager
def dask_client(
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
) -> Iterator[Any]:
    """A Dask distributed client: ``client`` as is, a scheduler's, or a new LocalCluster's.

    Parameters
    ----------
    client : distributed.Client, optional
        Used as is (and not closed).
    scheduler : str, optional
        A scheduler address (``tcp://host:8786``). Its workers must import ``lobutils`` and
        see the same file system paths (the chapters and the output root).
    workers : int, optional
        Workers of the LocalCluster (default: one per CPU core, ``os.cpu_count()``).
    processes : bool
        LocalCluster workers as processes (default; one thread each) or threads of this
        process (quicker to start, for tests).

    Yields
    ------
    distributed.Client
    """
    if client is not None:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        c = Client(scheduler)
        try:
            yield c
        finally:
            c.close()
        return
    n = int(workers) if workers else max(1, os.cpu_count() or 1)
    cluster = LocalCluster(
        n_workers=n,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",  # any free port: never clash with another cluster
        silence_logs=logging.ERROR,
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _progress(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="run", disable=not enabled, file=sys.stderr)


@dataclass
class PartitionResult:
    """What :func:`map_partitions` returned.

    Attributes
    ----------
    items : list
        The inputs, in order.
    results : list
        ``fn(item)`` for each item, ``None`` where it failed.
    errors : dict
        Item position -> ``"ExceptionType: message"`` with the traceback's last lines.
    seconds : float
    """

    items: list[Any]
    results: list[Any]
    errors: dict[int, str]
    seconds: float

    @property
    def ok(self) -> bool:
        """True when no item failed."""
        return not self.errors

    @property
    def failed(self) -> pd.DataFrame:
        """One row per failed item: ``position``, ``item``, ``error``."""
        return pd.DataFrame(
            [{"position": i, "item": self.items[i], "error": e} for i, e in self.errors.items()],
            columns=["position", "item", "error"],
        )

    def frame(self) -> pd.DataFrame:
        """The successful results as one frame.

        Mapping results (dicts) become rows; DataFrame results are concatenated. A mapping
        item's keys are added as columns in front (when the result lacks them).

        Returns
        -------
        pandas.DataFrame
            One frame of the items that did not fail.
        """
        parts = []
        for item, res in zip(self.items, self.results, strict=True):
            if res is None:
                continue
            f = pd.DataFrame([res]) if isinstance(res, Mapping) else pd.DataFrame(res)
            if isinstance(item, Mapping):
                for j, (k, v) in enumerate(item.items()):
                    if k not in f.columns:
                        f.insert(j, k, [v] * len(f))
            parts.append(f)
        return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _call(fn: Callable[[Any], Any], item: Any) -> tuple[bool, Any]:
    try:
        return True, fn(item)
    except Exception as exc:
        tb = traceback.format_exc().strip().splitlines()
        return False, f"{type(exc).__name__}: {exc}\n" + "\n".join(tb[-6:])


def map_partitions(
    fn: Callable[[Any], Any],
    items: Iterable[Any],
    client: Any = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    processes: bool = True,
    progress: bool = True,
    desc: str = "partitions",
) -> PartitionResult:
    """Map ``fn`` over items (e.g. (exchange, symbol, day) partitions) on a Dask client.

    Each item is one task; a failing item is recorded and the others go on.

    Parameters
    ----------
    fn : callable
        Takes one item. With process workers it must be picklable by cloudpickle (a module
        function, or one defined in a notebook).
    items : iterable
        The partitions, e.g. :func:`lake_items`.
    client : distributed.Client, optional
        The client to use (the batch's); else :func:`dask_client` makes one from
        ``scheduler``, ``workers`` and ``processes``.
    scheduler, workers, processes
        Passed to :func:`dask_client` when no ``client`` is given.
    progress : bool
        A progress bar on stderr.
    desc : str
        The progress bar's label.

    Returns
    -------
    PartitionResult

    Examples
    --------
    >>> res = map_partitions(lambda x: 10 / x, [1, 0, 5], processes=False, workers=1,
    ...                      progress=False)
    >>> res.results, sorted(res.errors), res.errors[1].splitlines()[0]
    ([10.0, None, 2.0], [1], 'ZeroDivisionError: division by zero')
    """
    t0 = time.perf_counter()
    items = list(items)
    results: list[Any] = [None] * len(items)
    errors: dict[int, str] = {}
    if items:
        with dask_client(client, scheduler, workers, processes) as c:
            from distributed import as_completed

            futures = {
                c.submit(_call, fn, item, key=f"{desc}-{i}-{time.time_ns()}", pure=False): i
                for i, item in enumerate(items)
            }
            with _progress(len(items), desc, progress) as bar:
                for fut in as_completed(futures):
                    i = futures[fut]
                    try:
                        ok, value = fut.result()
                    except Exception as exc:  # the task itself could not run
                        ok, value = False, f"{type(exc).__name__}: {exc}"
                    if ok:
                        results[i] = value
                    else:
                        errors[i] = value
                    bar.update(1)
    return PartitionResult(items, results, dict(sorted(errors.items())), time.perf_counter() - t0)


def lake_items(
    lake_root: str | os.PathLike[str],
    kind: str = "depth",
    exchange: str | None = None,
    symbol: str | None = None,
    start: str | None = None,
    end: str | None = None,
) -> list[dict[str, str]]:
    """The (exchange, symbol, date) partitions of a parquet lake, as items for a map.

    Parameters
    ----------
    lake_root : path-like
        A lake written by :mod:`lobutils.data.lake`.
    kind : str
        The table whose partitions are listed (``depth`` by default).
    exchange, symbol : str, optional
        Keep only these.
    start, end : str, optional
        ISO days, inclusive (``"2024-08-01"``).

    Returns
    -------
    list of dict
        ``{"lake": str, "exchange": ..., "symbol": ..., "date": "YYYY-MM-DD"}``, sorted.
    """
    from lobutils.data import lake

    parts = lake.partitions(lake_root, kind, exchange, symbol)
    if start is not None:
        parts = parts[parts["date"] >= str(start)]
    if end is not None:
        parts = parts[parts["date"] <= str(end)]
    return [
        {"lake": str(lake_root), "exchange": r.exchange, "symbol": r.symbol, "date": r.date}
        for r in parts.sort_values(["exchange", "symbol", "date"]).itertuples()
    ]
