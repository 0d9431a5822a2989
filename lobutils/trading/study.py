"""The backtest study of a chapter: markets, signals, runs next to benchmarks, and intervals.

The steps a backtest chapter takes for every market, each a function:

1. :func:`load_market`: one recording as the book in event time (what orders meet) and the
   modelling table on a clock (what the model sees), with its :class:`~lobutils.markets.Instrument`.
2. :func:`classical_signals`: the best classical model on the validation block, its test
   forecasts turned into target positions (:class:`Signals`).
3. :func:`deeplob_signals`: chapter 7's classifier probabilities on the same decision clock,
   where the two test blocks overlap.
4. :func:`backtest_source`: every market's signals through
   :func:`~lobutils.trading.backtest.compare_strategies` (:class:`SourceBacktest`).
5. :func:`equity_frame`, :func:`cost_breakdown`, :func:`rank_among_random`,
   :func:`trip_ci_table`, :func:`maker_table`: the tables behind the figures and verdicts.

The sentences that read these tables are in :mod:`lobutils.trading.verdicts`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.markets import Instrument, instrument
from lobutils.trading import backtest as bt

__all__ = [
    "BacktestSettings",
    "DeepSelection",
    "MarketData",
    "Signals",
    "SourceBacktest",
    "backtest_source",
    "classical_on_times",
    "classical_signals",
    "cost_breakdown",
    "deeplob_signals",
    "equity_frame",
    "load_market",
    "maker_table",
    "market_overview",
    "position_changes",
    "rank_among_random",
    "trip_ci",
    "trip_ci_table",
]

NS = 1_000_000_000
BPS = 1e4


@dataclass(frozen=True, eq=False)
class MarketData:
    """One market as the backtest needs it.

    Parameters
    ----------
    name : str
        The segment's name (``"spot_btcusdt"``).
    instrument : lobutils.markets.Instrument
        Contract terms and the fees charged in this study.
    book : lobutils.trading.backtest.BookArrays
        The book in event time, gaps as empty books.
    trades : pandas.DataFrame
        The trades stream (``ts``, ``price``, ``qty``).
    dataset : object or None
        The modelling table on a clock (:func:`lobutils.features.dataset.build_dataset`).
    """

    name: str
    instrument: Instrument
    book: bt.BookArrays
    trades: pd.DataFrame = field(repr=False)
    dataset: Any = field(repr=False)

    def visible_depth_quote(self) -> float:
        """Median quote value of the visible bid side over the book states.

        Returns
        -------
        float
        """
        b = self.book
        val = self.instrument.quote_value(np.nan_to_num(b.bid_px), b.bid_qty)
        return float(np.median(val.sum(axis=1)))


def load_market(
    seg: Any,
    *,
    levels: int,
    feature_levels: int | None = None,
    grid: str = "1s",
    horizons: Sequence[int] = (10,),
    maker_fee_bps: float | None = None,
    taker_fee_bps: float | None = None,
) -> MarketData:
    """Read one segment once: the book in event time and the modelling table.

    Parameters
    ----------
    seg : lobutils.data.Segment
        The recording.
    levels : int
        Book levels per side kept for walking the book.
    feature_levels : int, optional
        Book levels per side of the features; None: no modelling table (``dataset`` None).
    grid : str
        Clock of the modelling table (``"1s"``).
    horizons : sequence of int
        Forward-return horizons (s) of the modelling table.
    maker_fee_bps, taker_fee_bps : float, optional
        Override the market's default fees.

    Returns
    -------
    MarketData
    """
    from lobutils.book import reconstruct
    from lobutils.data import read_binance_recording
    from lobutils.features.dataset import build_dataset

    rec = read_binance_recording(seg.files)
    frame = reconstruct(rec, levels=levels, include_invalid=True).frame
    book = bt.book_arrays_of(frame)
    del frame
    ds = None
    if feature_levels is not None:
        ds = build_dataset(rec, grid=grid, levels=feature_levels, horizons=tuple(horizons))
    inst = instrument(
        seg.market, seg.symbol, maker_fee_bps=maker_fee_bps, taker_fee_bps=taker_fee_bps
    )
    return MarketData(seg.name, inst, book, rec.trades, ds)


def market_overview(markets: Mapping[str, MarketData]) -> pd.DataFrame:
    """One row per market: size of the recording, spread, depth and fees.

    Parameters
    ----------
    markets : mapping of str to MarketData

    Returns
    -------
    pandas.DataFrame
        Indexed by market: ``market``, ``contract_value``, ``book_states``, ``minutes``,
        ``trades``, ``median_spread_bps``, ``bid_depth_quote``, ``taker_fee_bps``,
        ``maker_fee_bps``.
    """
    rows = {
        name: {
            "market": m.instrument.market,
            "contract_value": m.instrument.contract_value,
            "book_states": m.book.ts.size,
            "minutes": (m.book.ts[-1] - m.book.ts[0]) / NS / 60,
            "trades": len(m.trades),
            "median_spread_bps": float(np.nanmedian(m.dataset.spread_bps)),
            "bid_depth_quote": m.visible_depth_quote(),
            "taker_fee_bps": m.instrument.taker_fee_bps,
            "maker_fee_bps": m.instrument.maker_fee_bps,
        }
        for name, m in markets.items()
    }
    return pd.DataFrame(rows).T.infer_objects().rename_axis("segment")


# --------------------------------------------------------------------------------------
# signals
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Signals:
    """One source's forecasts for one market, as target positions on decision times.

    Parameters
    ----------
    decision_ts : numpy.ndarray of int64
        Decision times (ns).
    target : numpy.ndarray
        Target position at each decision, in positions of one order value.
    forecast : numpy.ndarray
        The forecast (bps) behind it (NaN: none).
    model : str
        Which model made it.
    y : numpy.ndarray
        The realised forward return (bps) at each decision time.
    train_mean_abs_bps : float
        Mean absolute forward return of the training block (the scale of a classifier's
        forecast).
    """

    decision_ts: np.ndarray
    target: np.ndarray
    forecast: np.ndarray
    model: str
    y: np.ndarray
    train_mean_abs_bps: float = math.nan

    @property
    def median_abs_move_bps(self) -> float:
        """Median absolute realised forward return (bps)."""
        return float(np.median(np.abs(self.y)))


def position_changes(target: Any) -> int:
    """How often a target series changes position, from flat.

    Parameters
    ----------
    target : array_like

    Returns
    -------
    int

    Examples
    --------
    >>> position_changes([0.0, 1.0, 1.0, -1.0, 0.0])
    3
    """
    t = np.asarray(target, dtype=np.float64)
    return int(np.count_nonzero(np.diff(np.concatenate([[0.0], t]))))


def classical_signals(
    market: MarketData,
    models: Sequence[Any],
    horizon: int,
    fractions: Sequence[float],
    *,
    threshold_bps: float = 0.0,
    seed: int = 0,
) -> tuple[Signals, dict[str, Any]]:
    """Chapter 6's protocol on one market: the best model on validation, forecasts on test.

    The forward mid return over ``horizon`` seconds is split chronologically into train,
    validation and test blocks (purged); every candidate is tuned on validation, the lowest
    validation MSE is refitted on train + validation and forecasts the test block. A forecast
    beyond ``threshold_bps`` becomes a position held for ``horizon`` seconds
    (:func:`~lobutils.trading.backtest.hold_targets`).

    Parameters
    ----------
    market : MarketData
    models : sequence of lobutils.models.zoo.ModelConfig
        The candidates (:func:`lobutils.models.zoo.make_models`).
    horizon : int
        Forecast horizon and holding time (s).
    fractions : sequence of float
        Train, validation and test shares.
    threshold_bps : float
        Trade when the absolute forecast exceeds this.
    seed : int

    Returns
    -------
    (Signals, dict)
        The test-block signals, and one row of the selection table (validation MSE of each
        candidate, test :math:`R^2_{oos}`, hit rate, signal share, position changes).

    Raises
    ------
    ValueError
        When the market cannot be split into the three blocks.
    """
    from sklearn.exceptions import ConvergenceWarning

    from lobutils.models import zoo

    zoo_cfg = zoo.ZooConfig(
        models=tuple(models),
        targets=("return",),
        horizons=(horizon,),
        holdout=ev.HoldoutConfig(fractions=tuple(fractions)),
        importance_repeats=0,
        seed=seed,
    )
    td = zoo.make_task(market.dataset, horizon, "return", zoo_cfg)
    train, val, test = (np.asarray(a) for a in (td.split.train, td.split.val, td.split.test))
    scores = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for mc in models:
            tuned = zoo.tune(mc, "regression", td.X, td.y, td.split).best
            fold = ev.Fold(train, val)
            r = ev.fit_predict_fold(
                tuned.build("regression"), td.X, td.y, fold, scaler=tuned.scaler
            )
            scores[mc.name] = (ev.mse(td.y[val], r.y_pred), tuned)
        best = min(scores, key=lambda k: scores[k][0])
        fit = zoo.fit_final(scores[best][1], "regression", td.X, td.y, td.split)
    pred = np.asarray(fit.y_pred, dtype=float)
    dts = td.ts[test]
    direction = ev.regression_signal(pred, threshold_bps)
    target = bt.hold_targets(dts, direction, float(horizon))
    sig = Signals(dts, target, pred, best, td.y[test], float(np.mean(np.abs(td.y[train]))))
    row = {"segment": market.name, "chosen": best}
    row |= {f"val_mse_{k}": v[0] for k, v in scores.items()}
    row |= {
        "test_rows": test.size,
        "test_minutes": (dts[-1] - dts[0]) / NS / 60,
        "test_r2_oos": ev.r2_oos(td.y[test], pred),
        "test_hit_rate": float(np.mean(np.sign(pred) == np.sign(td.y[test]))),
        "median_abs_move_bps": sig.median_abs_move_bps,
        "signal_share": float(np.mean(direction != 0)),
        "position_changes": position_changes(target),
    }
    return sig, row


@dataclass(frozen=True, eq=False)
class DeepSelection:
    """:func:`deeplob_signals`: the classifier's signals where the test blocks overlap.

    Parameters
    ----------
    signals : dict of str to Signals
        Per market, on the overlap.
    classical : dict of str to Signals
        The classical model's signals on the same decision times.
    table : pandas.DataFrame
        One row per market: overlap, share with a signal, hit rates, position changes.
    skipped : dict of str to str
        Markets left out, and why.
    note : str or None
        Why nothing could be backtested (None when something could).
    """

    signals: dict[str, Signals]
    classical: dict[str, Signals]
    table: pd.DataFrame
    skipped: dict[str, str]
    note: str | None


def deeplob_signals(
    table: pd.DataFrame | None,
    classical: Mapping[str, Signals],
    *,
    model: str,
    horizon: int,
    threshold_bps: float = 0.0,
    max_age_s: float | None = None,
    missing_note: str | None = None,
) -> DeepSelection:
    """A classifier's test probabilities as signals on the classical model's decision times.

    Only decision times inside the span of the classifier's test signals are kept (both
    models are out of sample there). The forecast is ``(p_up - p_down)`` times the classical
    training block's mean absolute return (:func:`~lobutils.trading.backtest.signal_forecasts`),
    the last signal at or before each decision and none older than ``max_age_s``; from there
    the same holding rule as the classical model.

    Parameters
    ----------
    table : pandas.DataFrame or None
        Chapter 7's ``signals.parquet`` (``segment``, ``model``, ``split``, ``horizon_s``,
        ``ts``, ``p_down``, ``p_up``); None when there is none (``missing_note`` says why).
    classical : mapping of str to Signals
        The classical test-block signals per market.
    model : str
        Which classifier of the table.
    horizon : int
        Horizon (s) of the signals and of the holding rule.
    threshold_bps, max_age_s : float
        As for the classical model; the largest age of a signal at a decision (s).
    missing_note : str, optional
        The note when ``table`` is None.

    Returns
    -------
    DeepSelection

    Examples
    --------
    Synthetic probabilities every 100 ms over part of a classical test block:

    >>> s = 10**9
    >>> dts = np.arange(10) * s
    >>> cl = {"a": Signals(dts, np.zeros(10), np.zeros(10), "linear", np.ones(10), 2.0)}
    >>> sig = pd.DataFrame({"segment": "a", "model": "deeplob", "split": "test",
    ...     "horizon_s": 10, "ts": np.arange(20, 60) * s // 10, "p_down": 0.1, "p_up": 0.6})
    >>> sel = deeplob_signals(sig, cl, model="deeplob", horizon=10)
    >>> sel.signals["a"].decision_ts.tolist() == (np.arange(2, 6) * s).tolist(), sel.note
    (True, None)
    """
    sigs: dict[str, Signals] = {}
    same: dict[str, Signals] = {}
    rows, skipped = [], {}
    if table is None:
        return DeepSelection(sigs, same, pd.DataFrame(), skipped, missing_note)
    sel = table[
        (table["model"] == model)
        & (table["split"] == "test")
        & np.isclose(table["horizon_s"].astype(float), horizon)
    ]
    for name, info in classical.items():
        s_m = sel[sel["segment"] == name]
        if s_m.empty:
            skipped[name] = f"no {model} test signals at a {horizon} s horizon"
            continue
        dts = info.decision_ts
        keep = (dts >= s_m["ts"].min()) & (dts <= s_m["ts"].max())
        if keep.sum() < 2:
            skipped[name] = "the two test blocks do not overlap"
            continue
        d = dts[keep]
        fc = bt.signal_forecasts(s_m, d, info.train_mean_abs_bps, max_age_s=max_age_s)
        direction = ev.regression_signal(np.nan_to_num(fc), threshold_bps)
        target = bt.hold_targets(d, direction, float(horizon))
        y, ok = info.y[keep], np.isfinite(fc)
        sigs[name] = Signals(d, target, fc, model, y, info.train_mean_abs_bps)
        same[name] = Signals(d, info.target[keep], info.forecast[keep], info.model, y)
        rows.append(
            {
                "segment": name,
                "test_minutes": (dts[-1] - dts[0]) / NS / 60,
                "overlap_minutes": (d[-1] - d[0]) / NS / 60,
                "overlap_rows": int(d.size),
                "share_with_signal": float(ok.mean()),
                "scale_bps": info.train_mean_abs_bps,
                "hit_rate": float(np.mean(np.sign(fc[ok]) == np.sign(y[ok])))
                if ok.any()
                else math.nan,
                "classical_hit_rate": float(np.mean(np.sign(info.forecast[keep]) == np.sign(y))),
                "signal_share": float(np.mean(direction != 0)),
                "position_changes": position_changes(target),
                "classical_position_changes": position_changes(info.target[keep]),
            }
        )
    note = None
    if not sigs:
        note = (
            f"No market has {model} test signals that overlap this chapter's test block: "
            + "; ".join(f"{k}: {v}" for k, v in skipped.items())
        )
    return DeepSelection(sigs, same, pd.DataFrame(rows), skipped, note)


# --------------------------------------------------------------------------------------
# backtests
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BacktestSettings:
    """How a study turns target positions into orders (the chapter's parameters).

    Parameters
    ----------
    order_value : float
        Quote value of one position.
    max_position : float
        Position limit, in positions of ``order_value``.
    max_notional : float, optional
        Inventory limit in quote currency.
    latency_s, cooldown_s, maker_ttl_s : float
        As in :class:`~lobutils.trading.backtest.BacktestConfig`.
    seeds : tuple of int
        Seeds of the random-signal runs.
    """

    order_value: float
    max_position: float = 1.0
    max_notional: float | None = None
    latency_s: float = 0.1
    cooldown_s: float = 1.0
    maker_ttl_s: float = 5.0
    seeds: tuple[int, ...] = tuple(range(10))

    def config(self, market: MarketData, decision_ts: np.ndarray) -> bt.BacktestConfig:
        """The backtest config of one market: one position is ``order_value`` at the first mid.

        Parameters
        ----------
        market : MarketData
        decision_ts : numpy.ndarray of int64

        Returns
        -------
        lobutils.trading.backtest.BacktestConfig
        """
        m0 = float(market.book.mid_at(decision_ts[:1])[0])
        qty = market.instrument.qty_for_value(self.order_value, m0)
        return bt.BacktestConfig.for_instrument(
            market.instrument,
            qty,
            max_position=self.max_position * qty,
            max_notional=self.max_notional,
            latency_s=self.latency_s,
            cooldown_s=self.cooldown_s,
            maker_ttl_s=self.maker_ttl_s,
        )


@dataclass(frozen=True, eq=False)
class SourceBacktest:
    """:func:`backtest_source`: one source of signals through the backtest, all markets.

    Parameters
    ----------
    comparisons : dict of str to lobutils.trading.backtest.Comparison
    configs : dict of str to lobutils.trading.backtest.BacktestConfig
    runs : pandas.DataFrame
        One summary row per (market, strategy, seed).
    orders : pandas.DataFrame
        The model's orders, all markets.
    trips : pandas.DataFrame
        Every run's round trips, with ``segment`` and ``strategy``.
    """

    comparisons: dict[str, bt.Comparison]
    configs: dict[str, bt.BacktestConfig]
    runs: pd.DataFrame
    orders: pd.DataFrame
    trips: pd.DataFrame

    def strategy(self, name: str) -> pd.DataFrame:
        """The runs of one strategy (``"model"``, ``"holding"``, ...), one row per market.

        Parameters
        ----------
        name : str

        Returns
        -------
        pandas.DataFrame
        """
        return self.runs[self.runs["strategy"] == name]

    @property
    def closed_trips(self) -> pd.DataFrame:
        """The round trips that closed."""
        return self.trips[self.trips["closed"]]


def backtest_source(
    markets: Mapping[str, MarketData],
    signals: Mapping[str, Signals],
    settings: BacktestSettings,
) -> SourceBacktest:
    """Backtest every market's signals next to holding, random runs and perfect foresight.

    Parameters
    ----------
    markets : mapping of str to MarketData
    signals : mapping of str to Signals
        Per market (a subset of ``markets``).
    settings : BacktestSettings

    Returns
    -------
    SourceBacktest
    """
    comparisons, configs, tables, order_tables, trip_tables = {}, {}, [], [], []
    for name, info in signals.items():
        m = markets[name]
        cfg = settings.config(m, info.decision_ts)
        cmp = bt.compare_strategies(
            m.book, info.decision_ts, info.target, cfg, m.trades, seeds=settings.seeds
        )
        comparisons[name], configs[name] = cmp, cfg
        tables.append(cmp.table.assign(segment=name))
        order_tables.append(cmp.results["model"].orders.assign(segment=name))
        for key, res in cmp.results.items():
            strategy = "random" if key.startswith("random_") else key
            trip_tables.append(res.round_trips.assign(segment=name, strategy=strategy))
    return SourceBacktest(
        comparisons,
        configs,
        pd.concat(tables, ignore_index=True),
        pd.concat(order_tables, ignore_index=True),
        pd.concat(trip_tables, ignore_index=True),
    )


def classical_on_times(
    markets: Mapping[str, MarketData],
    signals: Mapping[str, Signals],
    configs: Mapping[str, bt.BacktestConfig],
) -> pd.DataFrame:
    """The summary row of each market's signals run alone (no benchmarks), strategy
    ``"classical"``.

    Parameters
    ----------
    markets : mapping of str to MarketData
    signals : mapping of str to Signals
    configs : mapping of str to BacktestConfig
        Per market, e.g. :attr:`SourceBacktest.configs` of the source compared with.

    Returns
    -------
    pandas.DataFrame
    """
    rows = []
    for name, info in signals.items():
        m = markets[name]
        r = bt.run_backtest(m.book, info.decision_ts, info.target, configs[name])
        rows.append({"strategy": "classical", "seed": -1, "segment": name} | r.summary)
    return pd.DataFrame(rows)


def equity_frame(src: SourceBacktest, signals: Mapping[str, Signals]) -> pd.DataFrame:
    """Every run's equity curve in bps of its capital, time from the first decision.

    Parameters
    ----------
    src : SourceBacktest
    signals : mapping of str to Signals

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``strategy``, ``seed`` (-1 but for random runs), ``t_s``, ``equity_bps``.
    """
    parts = []
    for name, cmp in src.comparisons.items():
        t0 = signals[name].decision_ts[0]
        for key, res in cmp.results.items():
            rnd = key.startswith("random_")
            e = res.equity
            parts.append(
                pd.DataFrame(
                    {
                        "segment": name,
                        "strategy": "random" if rnd else key,
                        "seed": int(key.split("_")[1]) if rnd else -1,
                        "t_s": (e["ts"].to_numpy() - t0) / NS,
                        "equity_bps": e["equity"].to_numpy() / res.summary["capital_quote"] * BPS,
                    }
                )
            )
    return pd.concat(parts, ignore_index=True)


def cost_breakdown(runs: pd.DataFrame) -> pd.DataFrame:
    """Gross P&L, its three costs and the net, in bps of each run's capital.

    Parameters
    ----------
    runs : pandas.DataFrame
        Summary rows (:attr:`SourceBacktest.runs`) with ``segment`` and ``strategy``.

    Returns
    -------
    pandas.DataFrame
        ``segment``, ``strategy``, ``gross_bps``, ``spread_bps``, ``depth_bps``,
        ``fees_bps``, ``net_bps``.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a"], "strategy": ["model"], "capital_quote": [1e4],
    ...     "gross_pnl_quote": [5.0], "spread_cost_quote": [1.0], "depth_cost_quote": [0.0],
    ...     "fees_quote": [10.0], "net_pnl_quote": [-6.0]})
    >>> cost_breakdown(t)[["gross_bps", "fees_bps", "net_bps"]].round(6).values.tolist()
    [[5.0, 10.0, -6.0]]
    """
    cap = runs["capital_quote"]
    return pd.DataFrame(
        {
            "segment": runs["segment"],
            "strategy": runs["strategy"],
            "gross_bps": runs["gross_pnl_quote"] / cap * BPS,
            "spread_bps": runs["spread_cost_quote"] / cap * BPS,
            "depth_bps": runs["depth_cost_quote"] / cap * BPS,
            "fees_bps": runs["fees_quote"] / cap * BPS,
            "net_bps": runs["net_pnl_quote"] / cap * BPS,
        }
    )


def rank_among_random(runs: pd.DataFrame, metric: str = "pnl_bps") -> pd.DataFrame:
    """Where the model, holding and perfect foresight fall among the random runs.

    Parameters
    ----------
    runs : pandas.DataFrame
        Summary rows with ``segment``, ``strategy`` and ``metric``.
    metric : str

    Returns
    -------
    pandas.DataFrame
        Per market: the three strategies' values, the random runs' median, 5th and 95th
        percentiles, and ``model_share_of_random_below``.

    Examples
    --------
    Synthetic runs of one market:

    >>> t = pd.DataFrame({"segment": "a", "strategy": ["model", "holding",
    ...     "perfect_foresight"] + ["random"] * 4, "pnl_bps": [2.0, 0.0, 9.0, 1.0, 3.0, -1.0, 0.0]})
    >>> rank_among_random(t)[["model", "random_median", "model_share_of_random_below"]].values.tolist()
    [[2.0, 0.5, 0.75]]
    """
    rows = []
    for name, g in runs.groupby("segment", sort=False):
        rnd = g.loc[g["strategy"] == "random", metric].to_numpy()
        row: dict[str, Any] = {"segment": name}
        for s in ("model", "holding", "perfect_foresight"):
            row[s] = float(g.loc[g["strategy"] == s, metric].iloc[0])
        row["random_median"] = float(np.median(rnd))
        row["random_p05"], row["random_p95"] = (float(x) for x in np.quantile(rnd, [0.05, 0.95]))
        row["model_share_of_random_below"] = float(np.mean(rnd < row["model"]))
        rows.append(row)
    return pd.DataFrame(rows)


def trip_ci(
    trips: pd.DataFrame, strategy: str, value: str, boot: ev.BootstrapConfig
) -> ev.BootstrapCI | None:
    """Block-bootstrap interval of the mean of one column of one strategy's round trips.

    Parameters
    ----------
    trips : pandas.DataFrame
        Closed round trips in time order, with ``strategy``.
    strategy, value : str
        Whose trips, and which column (``"net_bps"``, ``"gross_bps"``).
    boot : lobutils.evaluation.BootstrapConfig
        Blocks of ``boot.block_length`` trips.

    Returns
    -------
    lobutils.evaluation.BootstrapCI or None
        None with fewer than ``max(2, block_length)`` trips.
    """
    v = trips.loc[trips["strategy"] == strategy, value].to_numpy()
    v = v[np.isfinite(v)]
    if v.size < max(2, boot.block_length):
        return None
    return ev.block_bootstrap_ci(np.mean, v, config=boot)


def trip_ci_table(
    trips: pd.DataFrame,
    boot: ev.BootstrapConfig,
    strategies: Sequence[str] = ("model", "perfect_foresight", "holding"),
) -> pd.DataFrame:
    """:func:`trip_ci` of the net and gross P&L per trip of each strategy.

    Parameters
    ----------
    trips : pandas.DataFrame
    boot : lobutils.evaluation.BootstrapConfig
    strategies : sequence of str

    Returns
    -------
    pandas.DataFrame
        ``strategy``, ``value``, ``n_trips``, ``mean``, ``ci_low``, ``ci_high`` (NaN where
        there are too few trips).
    """
    rows = []
    for s in strategies:
        for value in ("net_bps", "gross_bps"):
            ci = trip_ci(trips, s, value, boot)
            rows.append(
                {
                    "strategy": s,
                    "value": value,
                    "n_trips": int((trips["strategy"] == s).sum()),
                    "mean": ci.estimate if ci else math.nan,
                    "ci_low": ci.ci_low if ci else math.nan,
                    "ci_high": ci.ci_high if ci else math.nan,
                }
            )
    return pd.DataFrame(rows)


def maker_table(
    markets: Mapping[str, MarketData], signals: Mapping[str, Signals], src: SourceBacktest
) -> pd.DataFrame:
    """The same signals as maker orders, next to the taker runs of ``src``.

    Parameters
    ----------
    markets : mapping of str to MarketData
    signals : mapping of str to Signals
    src : SourceBacktest
        The taker runs (their configs are reused with ``order_type="maker"``).

    Returns
    -------
    pandas.DataFrame
        Per market: ``maker_orders``, ``fill_rate``, ``maker_slippage_bps`` (fill-weighted),
        gross and net P&L (bps of capital) as a maker and as a taker.
    """
    rows = []
    for name, info in signals.items():
        m = markets[name]
        cfg = replace(src.configs[name], order_type="maker")
        mk = bt.run_backtest(m.book, info.decision_ts, info.target, cfg, m.trades)
        tk = src.comparisons[name].results["model"]
        o = mk.orders[mk.orders["maker"]]
        req = o["requested_qty"].sum()
        filled = o["filled_qty"].sum()
        rows.append(
            {
                "segment": name,
                "maker_orders": len(o),
                "fill_rate": float(filled / req) if req > 0 else math.nan,
                "maker_slippage_bps": float(
                    np.average(o["slippage_bps"].fillna(0), weights=o["filled_qty"])
                )
                if filled > 0
                else math.nan,
                "maker_gross_bps": mk.summary["gross_pnl_bps"],
                "maker_net_bps": mk.summary["pnl_bps"],
                "taker_gross_bps": tk.summary["gross_pnl_bps"],
                "taker_net_bps": tk.summary["pnl_bps"],
            }
        )
    return pd.DataFrame(rows)
