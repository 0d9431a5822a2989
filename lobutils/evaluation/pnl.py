"""P&L net of costs of a forecast traded naively.

:func:`regression_signal` and :func:`classifier_signal` turn forecasts into directions;
:func:`pnl_net_of_costs` scores each trade gross and net of half-spread and taker fees
(:class:`CostModel`, fees from :func:`lobutils.markets.fees_bps`) with a block-bootstrap CI.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from lobutils.evaluation._checks import (
    _array_1d,
    _float_1d,
    _same_length,
)
from lobutils.evaluation.inference import BootstrapConfig, _bootstrap, _percentile
from lobutils.markets import fees_bps

__all__ = [
    "BINANCE_SPOT_TAKER_FEE_BPS",
    "BINANCE_USDM_TAKER_FEE_BPS",
    "CostModel",
    "PnLResult",
    "classifier_signal",
    "pnl_net_of_costs",
    "regression_signal",
    "trade_pnl",
]


BINANCE_SPOT_TAKER_FEE_BPS: float = fees_bps("spot")[1]
"""Binance spot taker fee per side (:data:`lobutils.markets.BINANCE_FEES_BPS`, regular tier)."""

BINANCE_USDM_TAKER_FEE_BPS: float = fees_bps("usdm")[1]
"""Binance USD-M futures taker fee per side (:data:`lobutils.markets.BINANCE_FEES_BPS`)."""


@dataclass(frozen=True)
class CostModel:
    """Taker costs of one round trip, in bps of notional.

    Every side (entry, exit) crosses half the quoted spread and pays the taker fee, so a round
    trip costs ``sides * (spread_fraction * spread_bps + fee_bps)``.

    Parameters
    ----------
    fee_bps : float
        Taker fee per side. Default :data:`BINANCE_SPOT_TAKER_FEE_BPS` (0.1 %, Binance spot,
        regular tier). Futures are cheaper: USD-M 0.05 % (:data:`BINANCE_USDM_TAKER_FEE_BPS`);
        BNB discounts and VIP tiers lower both.
    sides : int
        1 (entry only) or 2 (a round trip, the default).
    spread_fraction : float
        Share of the spread paid per side; 0.5 (cross from mid to the touch).
    """

    fee_bps: float = BINANCE_SPOT_TAKER_FEE_BPS
    sides: int = 2
    spread_fraction: float = 0.5

    def __post_init__(self) -> None:
        if not (np.isfinite(self.fee_bps) and self.fee_bps >= 0):
            raise ValueError(f"fee_bps must be finite and >= 0, got {self.fee_bps!r}")
        if self.sides not in (1, 2):
            raise ValueError(f"sides must be 1 or 2, got {self.sides!r}")
        if not (np.isfinite(self.spread_fraction) and self.spread_fraction >= 0):
            raise ValueError(f"spread_fraction must be >= 0, got {self.spread_fraction!r}")


def regression_signal(pred: Any, threshold: float = 0.0) -> np.ndarray:
    """Trade the sign of a return forecast where ``|pred| > threshold``; else 0.

    ``threshold`` is in the forecast's units (bps for bps targets); the round-trip cost is a
    natural choice.

    Parameters
    ----------
    pred : array (n,)
        Return forecasts, finite.
    threshold : float
        Minimum ``|pred|`` to trade, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        int8 directions in {-1, 0, 1}.

    Raises
    ------
    ValueError
        If ``threshold`` is negative or not finite.

    Examples
    --------
    >>> regression_signal([3.0, -0.5, -4.0, 0.0], threshold=1.0).tolist()
    [1, 0, -1, 0]
    """
    p = _float_1d("pred", pred)
    if not (np.isfinite(threshold) and threshold >= 0):
        raise ValueError(f"threshold must be finite and >= 0, got {threshold!r}")
    return np.where(np.abs(p) > threshold, np.sign(p), 0).astype(np.int8)


def classifier_signal(
    proba: Any,
    classes: Any,
    threshold: float = 0.0,
    directions: Any | None = None,
) -> np.ndarray:
    """Trade the predicted class's direction where its probability is at least ``threshold``.

    Parameters
    ----------
    proba : array (n, k)
        Class probabilities, columns in the order of ``classes``.
    classes : array (k,)
        Class labels (``estimator.classes_``).
    threshold : float
        Minimum probability of the arg-max class.
    directions : array (k,) of {-1, 0, 1}, optional
        Trade direction of each class. Default: the sign of the label, allowed only when the
        labels are ``-1/+1`` or ``-1/0/+1``; for e.g. ``0/1`` labels pass ``directions=[-1, 1]``.

    Returns
    -------
    numpy.ndarray
        int8 directions in {-1, 0, 1}, one per row.

    Raises
    ------
    ValueError
        If the shapes disagree, ``threshold`` lies outside [0, 1], or the directions cannot be
        inferred from ``classes``.

    Examples
    --------
    >>> proba = np.array([[0.2, 0.1, 0.7], [0.4, 0.35, 0.25], [0.1, 0.8, 0.1]])
    >>> classifier_signal(proba, [-1, 0, 1], threshold=0.5).tolist()
    [1, 0, 0]
    """
    P = np.asarray(proba, dtype=np.float64)
    cls = _array_1d("classes", classes)
    if P.ndim != 2 or P.shape[1] != cls.size:
        raise ValueError(f"proba must have shape (n, {cls.size}), got {P.shape}")
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold!r}")
    if directions is None:
        if cls.dtype.kind not in "iuf" or not set(cls.tolist()) <= {-1, 0, 1} or -1 not in cls:
            raise ValueError(
                f"cannot infer trade directions from classes {cls.tolist()}; pass directions"
            )
        dirs = np.sign(cls).astype(np.int8)
    else:
        dirs = _array_1d("directions", directions)
        if dirs.size != cls.size or not set(dirs.tolist()) <= {-1, 0, 1}:
            raise ValueError("directions must hold -1, 0 or 1 for each class")
        dirs = dirs.astype(np.int8)
    best = np.argmax(P, axis=1)
    conf = P[np.arange(len(P)), best]
    return np.where(conf >= threshold, dirs[best], 0).astype(np.int8)


def trade_pnl(
    direction: Any,
    forward_return_bps: Any,
    spread_bps: Any,
    *,
    costs: CostModel | None = None,
    exit_spread_bps: Any | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row gross and net P&L in bps of notional (0 where there is no trade).

    ``gross = direction * forward_return_bps``; ``net = gross - cost`` on traded rows, with
    cost ``spread_fraction * (spread_bps + exit_spread_bps) + sides * fee_bps`` for a round
    trip (the exit spread defaults to the entry spread) and ``spread_fraction * spread_bps +
    fee_bps`` for one side. Each row's trade is scored on its own: overlapping holding periods
    are not netted (that is the backtest's job, :mod:`lobutils.trading.backtest`).

    Parameters
    ----------
    direction : array (n,) of {-1, 0, 1}
        Trade direction per row.
    forward_return_bps : array (n,)
        Realised mid return over the holding horizon, in bps.
    spread_bps : array (n,)
        Quoted spread at entry, in bps of mid, ``>= 0``.
    costs : CostModel, optional
        Default: Binance spot taker, round trip.
    exit_spread_bps : array (n,), optional
        Spread at exit in bps; default the entry spread.

    Returns
    -------
    gross : numpy.ndarray
        ``direction * forward_return_bps`` per row, bps.
    net : numpy.ndarray
        Gross minus costs on traded rows, 0 elsewhere, bps.

    Raises
    ------
    ValueError
        If ``direction`` holds other values, the lengths differ or a spread is negative.

    Examples
    --------
    >>> gross, net = trade_pnl([1, -1, 0], [5.0, 3.0, 9.0], [2.0, 2.0, 2.0])
    >>> gross.tolist(), net.tolist()
    ([5.0, -3.0, 0.0], [-17.0, -25.0, 0.0])
    """
    cm = CostModel() if costs is None else costs
    dirs = _array_1d("direction", direction)
    if dirs.dtype.kind not in "iuf" or not np.all(np.isin(dirs, (-1, 0, 1))):
        raise ValueError("direction must hold -1, 0 or 1")
    ret = _float_1d("forward_return_bps", forward_return_bps)
    spr = _float_1d("spread_bps", spread_bps)
    ex = spr if exit_spread_bps is None else _float_1d("exit_spread_bps", exit_spread_bps)
    _same_length(direction=dirs, forward_return_bps=ret, spread_bps=spr, exit_spread_bps=ex)
    if np.any(spr < 0) or np.any(ex < 0):
        raise ValueError("spreads must be >= 0")
    d = dirs.astype(np.float64)
    traded = d != 0
    gross = d * ret
    if cm.sides == 2:
        cost = cm.spread_fraction * (spr + ex) + 2 * cm.fee_bps
    else:
        cost = cm.spread_fraction * spr + cm.fee_bps
    net = np.where(traded, gross - cost, 0.0)
    return gross, net


@dataclass(frozen=True)
class PnLResult:
    """Summary of :func:`pnl_net_of_costs`; per-trade values in bps of notional.

    Parameters
    ----------
    n_rows : int
        Rows scored.
    n_trades : int
        Rows with a non-zero direction.
    trade_rate : float
        ``n_trades / n_rows``.
    hit_rate : float
        Share of trades with positive gross P&L.
    mean_gross_bps, mean_cost_bps, mean_net_bps : float
        Means per trade, bps (NaN when nothing traded).
    total_gross_bps, total_net_bps : float
        Sums over the trades, bps.
    ci_low, ci_high : float
        Bootstrap interval of ``mean_net_bps`` (NaN without a bootstrap).
    """

    n_rows: int
    n_trades: int
    trade_rate: float
    hit_rate: float
    mean_gross_bps: float
    mean_cost_bps: float
    mean_net_bps: float
    total_gross_bps: float
    total_net_bps: float
    ci_low: float
    ci_high: float

    def to_dict(self) -> dict[str, float]:
        """Plain dict (for ``metrics.json``).

        Returns
        -------
        dict of str to float
            Field name to value.
        """
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _ratio_of_sums(num: np.ndarray, den: np.ndarray) -> float:
    s = den.sum()
    return float(num.sum() / s) if s > 0 else math.nan


def pnl_net_of_costs(
    direction: Any,
    forward_return_bps: Any,
    spread_bps: Any,
    *,
    costs: CostModel | None = None,
    bootstrap: BootstrapConfig | None = None,
    exit_spread_bps: Any | None = None,
) -> PnLResult:
    """P&L per trade, gross and net of half-spread and taker fees, with a bootstrap CI.

    Parameters
    ----------
    direction : array of {-1, 0, 1}
        From :func:`regression_signal` or :func:`classifier_signal`.
    forward_return_bps : array
        The realised mid return over the holding horizon, in bps (the regression target).
    spread_bps : array
        Quoted spread at entry, in bps of mid.
    costs : CostModel, optional
        Default: Binance spot taker, round trip.
    bootstrap : BootstrapConfig, optional
        When given, ``ci_low``/``ci_high`` bound the mean net P&L per trade: rows (traded or
        not) are block-resampled and the statistic is ``sum(net) / n_trades``.
    exit_spread_bps : array, optional
        Spread at exit; default the entry spread.

    Returns
    -------
    PnLResult
        ``hit_rate`` is the share of trades with positive *gross* P&L (the direction was
        right). Means are NaN when nothing traded.

    Examples
    --------
    >>> r = pnl_net_of_costs([1, -1, 0, 1], [30.0, -25.0, 4.0, -10.0], [1.0, 1.0, 1.0, 1.0])
    >>> r.n_trades, round(r.hit_rate, 3), r.mean_gross_bps, r.mean_net_bps
    (3, 0.667, 15.0, -6.0)
    """
    gross, net = trade_pnl(
        direction, forward_return_bps, spread_bps, costs=costs, exit_spread_bps=exit_spread_bps
    )
    traded = np.asarray(direction) != 0
    n_tr = int(traded.sum())
    n = len(traded)
    if n_tr:
        g = gross[traded]
        nt = net[traded]
        mean_g, mean_n = float(g.mean()), float(nt.mean())
        hit = float(np.mean(g > 0))
    else:
        mean_g = mean_n = hit = math.nan
    lo = hi = math.nan
    if bootstrap is not None and n_tr:
        tr_f = traded.astype(np.float64)
        _, samples = _bootstrap(_ratio_of_sums, [net, tr_f], bootstrap)
        lo_a, hi_a = _percentile(samples, bootstrap.confidence)
        lo, hi = float(lo_a[0]), float(hi_a[0])
    return PnLResult(
        n_rows=n,
        n_trades=n_tr,
        trade_rate=n_tr / n if n else math.nan,
        hit_rate=hit,
        mean_gross_bps=mean_g,
        mean_cost_bps=mean_g - mean_n if n_tr else math.nan,
        mean_net_bps=mean_n,
        total_gross_bps=float(gross[traded].sum()),
        total_net_bps=float(net.sum()),
        ci_low=lo,
        ci_high=hi,
    )
