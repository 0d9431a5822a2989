"""The liquidation study of a chapter: every market, every schedule, the frontier, the pairs.

:mod:`lobutils.trading.execution` holds the model (Almgren-Chriss), the schedules and the
shortfall of one market. This module runs them over the markets of a chapter and builds the
tables behind its figures and verdicts:

- :func:`run_markets`: one :class:`~lobutils.trading.execution.LiquidationConfig` per market
  from its :class:`~lobutils.markets.Instrument`, start times after the warm-up, the study;
- :func:`estimates_table`, :func:`impact_curves`, :func:`inventory_paths`,
  :func:`urgency_table`: what the fit sees and what the schedules do;
- :func:`frontier_parts`, :func:`theory_frontiers`: the measured and the modelled frontier;
- :func:`paired_vs_twap`: each schedule minus TWAP on the same windows, with a block
  bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.markets import Instrument
from lobutils.trading import execution as ex
from lobutils.trading.backtest import BookArrays

__all__ = [
    "MarketLiquidation",
    "LiquidationStudy",
    "estimates_table",
    "frontier_parts",
    "impact_curves",
    "inventory_paths",
    "paired_vs_twap",
    "run_markets",
    "theory_frontiers",
    "urgency_table",
]

BPS = 1e4


@dataclass(frozen=True, eq=False)
class MarketLiquidation:
    """One market's study.

    Parameters
    ----------
    config : lobutils.trading.execution.LiquidationConfig
    result : lobutils.trading.execution.LiquidationResult
    unit_value : float
        Quote value of one unit at the first mid (a contract's value on an inverse market).
    """

    config: ex.LiquidationConfig
    result: ex.LiquidationResult = field(repr=False)
    unit_value: float

    @property
    def qty(self) -> float:
        """``X``: units sold."""
        return float(self.config.qty)


@dataclass(frozen=True, eq=False)
class LiquidationStudy:
    """:func:`run_markets`: the per-market studies and their pooled tables.

    Parameters
    ----------
    markets : dict of str to MarketLiquidation
    shortfall : pandas.DataFrame
        One row per (market, start time, schedule).
    estimates : pandas.DataFrame
        One row per (market, start time): sigma, epsilon, eta and the impact curve.
    skipped : dict of str to str
        Markets too short for a warm-up and one horizon.
    """

    markets: dict[str, MarketLiquidation]
    shortfall: pd.DataFrame
    estimates: pd.DataFrame
    skipped: dict[str, str]


def _first_mid(b: BookArrays) -> float:
    mids = b.mid()
    return float(b.mid_at(b.ts[:1])[0]) if np.isfinite(mids[0]) else float(np.nanmedian(mids))


def run_markets(
    books: Mapping[str, tuple[Instrument, BookArrays, pd.DataFrame]],
    value: float,
    start_every_s: float,
    **config: Any,
) -> LiquidationStudy:
    """Sell ``value`` quote in every market, starting every ``start_every_s`` seconds.

    Parameters
    ----------
    books : mapping of str to (Instrument, BookArrays, trades)
        Per market.
    value : float
        Quote value of the position, turned into units at the first mid
        (:meth:`lobutils.trading.execution.LiquidationConfig.for_value`).
    start_every_s : float
        Step between start times (s).
    **config
        The other fields of :class:`~lobutils.trading.execution.LiquidationConfig`.

    Returns
    -------
    LiquidationStudy

    Raises
    ------
    ValueError
        When no market is long enough for the warm-up and one horizon.
    """
    out, skipped, tables, ests = {}, {}, [], []
    for name, (inst, b, trades) in books.items():
        m_first = _first_mid(b)
        cfg = ex.LiquidationConfig.for_value(inst, value, m_first, **config)
        starts = ex.start_times(b, cfg, start_every_s)
        if starts.size == 0:
            skipped[name] = f"too short for a {cfg.horizon_s:g} s liquidation after the warm-up"
            continue
        res = ex.liquidation_study(b, trades, starts, cfg)
        tables.append(res.table.assign(segment=name))
        ests.append(res.estimates.assign(segment=name))
        out[name] = MarketLiquidation(cfg, res, float(inst.quote_value(m_first, 1.0)))
    if not out:
        raise ValueError("no segment is long enough for the warm-up and one liquidation horizon")
    return LiquidationStudy(
        out, pd.concat(tables, ignore_index=True), pd.concat(ests, ignore_index=True), skipped
    )


def estimates_table(study: LiquidationStudy) -> pd.DataFrame:
    """Per market: ``X``, start times, and the median sigma, eta and half-spread.

    Parameters
    ----------
    study : LiquidationStudy

    Returns
    -------
    pandas.DataFrame
        Indexed by market: ``qty``, ``start_times``, ``sigma_bps_per_sqrt_s``,
        ``eta_slice``, ``half_spread_bps``.
    """
    rows = {}
    for name, m in study.markets.items():
        e = m.result.estimates
        rows[name] = {
            "qty": m.qty,
            "start_times": m.result.table["start_ts"].nunique(),
            "sigma_bps_per_sqrt_s": float(np.median(e["sigma"]) / m.unit_value * BPS),
            "eta_slice": float(np.median(e["eta_slice"])),
            "half_spread_bps": float(np.median(e["half_spread"]) / m.unit_value * BPS),
        }
    return pd.DataFrame(rows).T.infer_objects().rename_axis("segment")


def impact_curves(estimates: pd.DataFrame) -> pd.DataFrame:
    """The median cost of one slice against its size (a share of ``X``), per market.

    Parameters
    ----------
    estimates : pandas.DataFrame
        :attr:`LiquidationStudy.estimates` (columns ``impact_bps_<share>X``).

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``size`` (share of ``X``), ``cost_bps``, sorted.

    Examples
    --------
    >>> e = pd.DataFrame({"segment": ["a", "a"], "impact_bps_0.5X": [1.0, 3.0],
    ...                   "impact_bps_1X": [4.0, 4.0]})
    >>> impact_curves(e).values.tolist()
    [['a', 0.5, 2.0], ['a', 1.0, 4.0]]
    """
    cols = [c for c in estimates.columns if c.startswith("impact_bps_")]
    curves = (
        estimates.groupby("segment", sort=False)[cols]
        .median()
        .reset_index()
        .melt(id_vars="segment", var_name="size", value_name="cost_bps")
    )
    curves["size"] = (
        curves["size"].str.removeprefix("impact_bps_").str.removesuffix("X").astype(float)
    )
    return curves.sort_values(["segment", "size"], ignore_index=True)


def inventory_paths(m: MarketLiquidation, window: int | None = None) -> dict[str, np.ndarray]:
    """The share of the position still held after each slice, per schedule, at one start.

    Parameters
    ----------
    m : MarketLiquidation
    window : int, optional
        Which start time (default: the middle one).

    Returns
    -------
    dict of str to numpy.ndarray
        ``n + 1`` values from 1 to 0.
    """
    w = m.result.table["start_ts"].nunique() // 2 if window is None else int(window)
    return {
        k: np.concatenate([[1.0], 1.0 - np.cumsum(v[w]) / m.qty])
        for k, v in m.result.schedules.items()
    }


def urgency_table(shortfall: pd.DataFrame) -> pd.DataFrame:
    """Median ``kappa_T`` and first-slice share of each AC schedule, per market.

    Parameters
    ----------
    shortfall : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        Rows: market and quantity; columns: the AC schedules.
    """
    ac = shortfall[shortfall["strategy"].str.startswith("ac_")]
    kap = (
        ac.groupby(["segment", "strategy"], sort=False)[["kappa_T", "first_slice_share"]]
        .median()
        .rename_axis(columns="quantity")
        .stack()
        .unstack("strategy")
    )
    return kap


def frontier_parts(shortfall: pd.DataFrame) -> pd.DataFrame:
    """The frontier per (market, schedule) with the mean walk cost, timing and unfilled qty.

    Parameters
    ----------
    shortfall : pandas.DataFrame

    Returns
    -------
    pandas.DataFrame
        :func:`lobutils.trading.execution.frontier_table` by market and schedule, plus
        ``walk_cost_bps``, ``timing_bps``, ``unfilled_qty`` (means).
    """
    front = ex.frontier_table(shortfall, by=["segment", "strategy"])
    parts = (
        shortfall.groupby(["segment", "strategy"], sort=False)[
            ["walk_cost_bps", "timing_bps", "unfilled_qty"]
        ]
        .mean()
        .reset_index()
    )
    return front.merge(parts, on=["segment", "strategy"])


def theory_frontiers(study: LiquidationStudy, risk_aversions: Any) -> pd.DataFrame:
    """The AC frontier each market's median estimates predict, over a grid of risk aversions.

    Parameters
    ----------
    study : LiquidationStudy
    risk_aversions : array_like
        The grid of lambda (1/quote).

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``risk_aversion``, ``mean_bps``, ``std_bps``.
    """
    rows = []
    for name, m in study.markets.items():
        e = m.result.estimates
        sigma, eta_s, half = (float(np.median(e[c])) for c in ("sigma", "eta_slice", "half_spread"))
        c = m.config
        fr = ex.ac_frontier(
            m.qty, c.horizon_s, c.n_slices, sigma, eta_s * c.tau_s, risk_aversions, epsilon=half
        )
        value = m.qty * m.unit_value
        rows.append(
            pd.DataFrame(
                {
                    "segment": name,
                    "risk_aversion": fr["risk_aversion"],
                    "mean_bps": fr["expected_cost"] / value * BPS,
                    "std_bps": fr["std_cost"] / value * BPS,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def paired_vs_twap(
    shortfall: pd.DataFrame,
    *,
    horizon_s: float,
    start_every_s: float,
    n_boot: int = 1000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Each schedule minus TWAP on the same windows, pooled over markets, with an interval.

    The block bootstrap's blocks span the windows that overlap (``ceil(horizon /
    step)`` start times).

    Parameters
    ----------
    shortfall : pandas.DataFrame
        With ``segment``, ``start_ts``, ``strategy``, ``shortfall_bps``, ``walk_cost_bps``.
    horizon_s, start_every_s : float
        The horizon and the step between start times (s).
    n_boot : int
    confidence : float
    seed : int

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``n_windows``, ``mean_diff_bps``, ``ci_low``, ``ci_high``,
        ``walk_cost_diff_bps``, ``std_ratio``.
    """
    blk = max(1, math.ceil(horizon_s / start_every_s))
    keys = ["segment", "start_ts"]
    twap = shortfall[shortfall["strategy"] == "twap"].set_index(keys)
    rows = []
    for s in dict.fromkeys(shortfall["strategy"]):
        if s == "twap":
            continue
        other = shortfall[shortfall["strategy"] == s].set_index(keys)
        d = (other["shortfall_bps"] - twap["shortfall_bps"]).to_numpy()
        walk_d = (other["walk_cost_bps"] - twap["walk_cost_bps"]).to_numpy()
        cfg = ev.BootstrapConfig(
            block_length=min(blk, d.size), n_boot=n_boot, confidence=confidence, seed=seed
        )
        ci = ev.block_bootstrap_ci(np.mean, d, config=cfg)
        rows.append(
            {
                "strategy": s,
                "n_windows": d.size,
                "mean_diff_bps": ci.estimate,
                "ci_low": ci.ci_low,
                "ci_high": ci.ci_high,
                "walk_cost_diff_bps": float(walk_d.mean()),
                "std_ratio": float(other["shortfall_bps"].std() / twap["shortfall_bps"].std()),
            }
        )
    return pd.DataFrame(rows)
