"""Digests of a batch study: the counts and sentences that chapter 10 shows next to its figures.

A batch (:mod:`lobutils.runner.batch`) leaves a runs table and, gathered from every run,
chapter 6's results table. The functions here reduce them to what the chapter says in words:
which runs failed and why, how many comparisons beat their baseline, the median score by
market kind, and the pooled-against-own verdicts. :func:`day_summary` is the task the chapter
maps over the partitions of a lake; it lives in a module so that Dask workers import it
rather than unpickle a notebook function.

Examples
--------
>>> runs = pd.DataFrame({"status": ["ok", "failed", "cached"], "seconds": [3.0, 1.0, None]})
>>> run_counts(runs)
{'runs': 3, 'executed': 2, 'ok': 1, 'failed': 1, 'cached': 1}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from lobutils.plots.batch import market_kind

__all__ = [
    "beat_counts",
    "beat_text",
    "day_summary",
    "failure_text",
    "kind_medians",
    "kind_text",
    "pooled_text",
    "run_counts",
]

_TOO_SHORT = (
    "{n} of them fail for the same reason: the recording is too short for the horizon. "
    "Chapter 6 splits each segment by time and purges every training row whose target reaches "
    "into the validation or test block; on a recording of a few minutes, a long horizon leaves "
    "no training rows, and chapter 6 stops rather than fit on nothing. The batch records the "
    "failure and goes on: the other runs, the tables and the figures below do not need these."
)


def _text(value: Any) -> bool:
    """Whether a cell of a runs table holds text (not None, NaN or an empty string)."""
    return isinstance(value, str) and bool(value)


def run_counts(runs_table: pd.DataFrame) -> dict[str, int]:
    """How many runs of a batch executed (and finished or failed), and how many were reused.

    Parameters
    ----------
    runs_table : pandas.DataFrame
        The batch's runs table, with a ``status`` column (``ok``, ``cached``, ``failed``).

    Returns
    -------
    dict
        ``runs``; ``executed``, the runs that ran now, split into ``ok`` (finished) and
        ``failed``; and ``cached``, the runs reused from an earlier batch. ``executed`` counts as
        :meth:`lobutils.runner.batch.BatchResult.summary` does, and ``executed + cached`` is
        ``runs``.

    Examples
    --------
    >>> run_counts(pd.DataFrame({"status": ["ok", "failed"]}))["executed"]
    2
    """
    counts = runs_table["status"].value_counts()
    ok, failed = int(counts.get("ok", 0)), int(counts.get("failed", 0))
    return {
        "runs": len(runs_table),
        "executed": ok + failed,
        "ok": ok,
        "failed": failed,
        "cached": int(counts.get("cached", 0)),
    }


def failure_text(runs_table: pd.DataFrame) -> str:
    """Markdown on the batch's worker time and its failed runs, each with the cell that raised.

    Parameters
    ----------
    runs_table : pandas.DataFrame
        The runs table: ``status``, ``seconds``, and for failed runs ``SEGMENTS``, ``HORIZONS``,
        ``notebook``, ``failed_cell``, ``error``.

    Returns
    -------
    str
        Paragraphs of Markdown.

    Examples
    --------
    >>> t = pd.DataFrame({"status": ["ok"], "seconds": [12.0]})
    >>> failure_text(t).endswith("No run failed.")
    True
    """
    executed = runs_table["seconds"].dropna()
    failed = runs_table[runs_table["status"] == "failed"]
    first = (
        f"The runs took {executed.sum():.0f} s of worker time in all "
        f"({executed.median():.0f} s each at the median). Most of it is not the models: each run "
        "starts a kernel, imports scikit-learn and XGBoost, rebuilds its dataset and runs the "
        "L1-state and accuracy sections of chapter 6 too."
    )
    if failed.empty:
        return f"{first} No run failed."
    items = "\n".join(
        f"- {r.SEGMENTS} at {r.HORIZONS}: `{r.notebook}`, "
        + " ".join(str(r.failed_cell if _text(r.failed_cell) else r.error).split())
        for r in failed.itertuples()
    )
    parts = [
        first,
        f"**{len(failed)} run(s) failed**; each keeps its partial notebook (its path under the "
        f"batch folder), and the summary names the cell that raised:\n\n{items}",
    ]
    too_short = failed["failed_cell"].fillna("").str.contains("purge and embargo")
    if too_short.any():
        parts.append(_TOO_SHORT.format(n=int(too_short.sum())))
    return "\n\n".join(parts)


def beat_counts(model_rows: pd.DataFrame) -> dict[str, Any]:
    """How many (market, horizon, model) comparisons beat their best naive baseline.

    Parameters
    ----------
    model_rows : pandas.DataFrame
        One row per comparison: ``horizon``, ``model``, ``beats_baseline`` (bool or missing:
        missing counts as not beating).

    Returns
    -------
    dict
        ``n`` (comparisons), ``beat`` (how many beat), and ``by_horizon``, ``by_model``: frames
        with ``sum`` and ``size`` per horizon and per model, in order of appearance.

    Examples
    --------
    >>> t = pd.DataFrame({"horizon": ["1s", "1s", "10s"], "model": ["a", "b", "a"],
    ...                   "beats_baseline": [True, None, False]})
    >>> c = beat_counts(t)
    >>> c["n"], c["beat"], c["by_horizon"]["sum"].tolist()
    (3, 1, [1, 0])
    """
    beats = model_rows["beats_baseline"].astype("boolean").fillna(False).astype(bool)
    flagged = model_rows.assign(b=beats.to_numpy())
    return {
        "n": len(model_rows),
        "beat": int(beats.sum()),
        "by_horizon": flagged.groupby("horizon", sort=False)["b"].agg(["sum", "size"]),
        "by_model": flagged.groupby("model", sort=False)["b"].agg(["sum", "size"]),
    }


def beat_text(counts: Mapping[str, Any]) -> str:
    """One paragraph of Markdown on :func:`beat_counts`, with the count expected by chance.

    Parameters
    ----------
    counts : mapping
        The result of :func:`beat_counts`.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> t = pd.DataFrame({"horizon": ["1s"], "model": ["a"], "beats_baseline": [True]})
    >>> beat_text(beat_counts(t)).split(".")[0]
    'Of **1** (market, horizon, model) comparisons, **1** beat their best naive baseline beyond the 95% interval'
    """

    def listed(table: pd.DataFrame) -> str:
        return ", ".join(f"{k}: {int(r['sum'])} of {int(r['size'])}" for k, r in table.iterrows())

    n = counts["n"]
    return (
        f"Of **{n}** (market, horizon, model) comparisons, **{counts['beat']}** beat their "
        f"best naive baseline beyond the 95% interval. By horizon: {listed(counts['by_horizon'])}."
        f" By model: {listed(counts['by_model'])}. By chance alone about {0.025 * n:.1f} would "
        "(each interval misses on the better side 2.5% of the time), and the comparisons share "
        "their test rows."
    )


def kind_medians(model_rows: pd.DataFrame) -> pd.DataFrame:
    """Median score over assets and models, by market kind (rows) and horizon (columns).

    Parameters
    ----------
    model_rows : pandas.DataFrame
        ``market`` (spot, usdm, cm), ``horizon``, ``value``.

    Returns
    -------
    pandas.DataFrame
        Index: market kind (:func:`lobutils.plots.batch.market_kind`); columns: horizons.

    Examples
    --------
    >>> t = pd.DataFrame({"market": ["spot", "cm", "cm"], "horizon": ["1s"] * 3,
    ...                   "value": [0.1, 0.2, 0.4]})
    >>> kind_medians(t)["1s"].round(2).to_dict()
    {'spot': 0.1, 'perpetual (coin-m)': 0.3}
    """
    kind = model_rows["market"].map(market_kind)
    return (
        model_rows.assign(kind=kind.to_numpy())
        .groupby(["kind", "horizon"], sort=False)["value"]
        .median()
        .unstack("horizon")
    )


def kind_text(medians: pd.DataFrame) -> str:
    """Markdown comparing the market kinds of :func:`kind_medians`, horizon by horizon.

    Parameters
    ----------
    medians : pandas.DataFrame
        The result of :func:`kind_medians`.

    Returns
    -------
    str
        A list of the medians per horizon with their largest gap, or a sentence saying that
        only one market kind is in the batch.

    Examples
    --------
    >>> kind_text(pd.DataFrame({"1s": [0.1]}, index=["spot"])).startswith("Only one")
    True
    """
    lines = []
    for h in medians.columns:
        col = medians[h].dropna()
        if len(col) > 1:
            pairs = ", ".join(f"{k} {v:.3f}" for k, v in col.items())
            lines.append(f"- at **{h}**: {pairs} (the largest gap is {col.max() - col.min():.3f})")
    if not lines:
        return (
            "Only one market kind is in this batch: add spot and perpetual segments to compare "
            "them."
        )
    return (
        "Median $R^2_{oos}$ over assets and models, by market kind:\n\n"
        + "\n".join(lines)
        + "\n\nThe intervals above overlap for most pairs: with minutes of test data, a "
        "difference between markets would have to be large to show. What the figure can show "
        "is a *pattern*, such as one market being predictable at the shortest horizon only, "
        "which a longer study can then test."
    )


def pooled_text(pooled: pd.DataFrame, skipped: pd.DataFrame) -> str:
    """Markdown on the pooled-against-own comparison of :mod:`lobutils.models.crossmarket`.

    Parameters
    ----------
    pooled : pandas.DataFrame
        The paired differences: ``pooled_better``, ``pooled_worse``, ``diff``,
        ``n_train_pooled``, ``n_train_own``.
    skipped : pandas.DataFrame
        The (market, horizon) pairs that could not be split.

    Returns
    -------
    str
        Markdown.

    Examples
    --------
    >>> d = pd.DataFrame({"pooled_better": [True, False], "pooled_worse": [False, False],
    ...     "diff": [0.02, 0.0], "n_train_pooled": [600, 600], "n_train_own": [200, 300]})
    >>> pooled_text(d, pd.DataFrame()).split(".")[0]
    'The pooled training sets are 2'
    """
    n_better, n_worse = int(pooled["pooled_better"].sum()), int(pooled["pooled_worse"].sum())
    ratio = (pooled["n_train_pooled"] / pooled["n_train_own"]).median()
    text = (
        f"The pooled training sets are {ratio:.1f} times the per-market ones at the median. Of "
        f"**{len(pooled)}** (market, horizon, model) pairs, the pooled model scores higher beyond "
        f"the paired 95% interval in **{n_better}**, lower in **{n_worse}**, and the two cannot "
        f"be told apart in the other {len(pooled) - n_better - n_worse}. Median difference "
        f"(pooled − own): {pooled['diff'].median():+.3f} in $R^2_{{oos}}$."
    )
    if len(skipped):
        text += f" {len(skipped)} (market, horizon) pairs could not be split and are left out."
    return text


def day_summary(item: Mapping[str, Any], grid: str = "1s", levels: int = 10) -> dict[str, float]:
    """Rebuild one day's book from a lake, compute its features, and summarise them.

    The book of a day needs the last snapshot before it, which may lie in the day before, so
    the day before is read too and only the rows of the day are kept.

    Parameters
    ----------
    item : mapping
        One partition of :func:`lobutils.runner.batch.lake_items`: ``lake``, ``exchange``,
        ``symbol``, ``date``.
    grid : str, default "1s"
        Clock-grid step.
    levels : int, default 10
        Book levels per side.

    Returns
    -------
    dict
        ``rows``, ``minutes``, ``median_spread_bps``, ``vol_1s_bps`` (standard deviation of
        the 1 s past return) and ``ofi_next_return_corr`` (Spearman correlation of level-1 OFI
        with the next second's return).
    """
    from lobutils.data import lake
    from lobutils.features.dataset import build_dataset

    day = pd.Timestamp(item["date"], tz="UTC")
    one_day = pd.Timedelta(days=1)
    rec = lake.read_recording(
        item["lake"], item["exchange"], item["symbol"], start=day - one_day, end=day + one_day
    )
    ds = build_dataset(rec, grid=grid, levels=levels, horizons=(1,))
    keep = (ds.ts >= day.value) & (ds.ts < (day + one_day).value)
    f, r = ds.X[keep], ds.returns["1s"][keep]
    ok = f["ofi_1"].notna() & r.notna()
    return {
        "rows": int(keep.sum()),
        "minutes": keep.sum() * pd.Timedelta(grid).total_seconds() / 60,
        "median_spread_bps": float(np.nanmedian(ds.spread_bps[keep])),
        "vol_1s_bps": float(np.nanstd(f["past_ret_1s"])),
        "ofi_next_return_corr": float(f["ofi_1"][ok].corr(r[ok], method="spearman")),
    }
