"""Traded volume: bars from trades, causal features, forward targets and naive forecasts.

Chapter 9 forecasts the volume traded over the next ``k`` bars. The pipeline is

``trades`` -> :func:`volume_bars` (quote notional per bar, buys and sells, trade counts)
-> :func:`volume_table` (features known at the bar's end, the forward target, its end time)
-> :func:`naive_forecasts` (last window, rolling mean, EWMA).

Units and timing
----------------
A bar labelled ``t`` holds the trades with ``t - every < ts <= t`` (exchange time), so it is
known at ``t``. Volumes are in the quote currency (USD or USDT): ``price x qty`` on linear
markets, ``qty x contract value`` on COIN-M, where a quantity counts contracts. The target at
bar ``t`` is ``log(1 + V)``, where ``V`` is the volume of bars ``t+1 .. t+k``; it is realised at
``t + k x every`` (``target_end``), which the purge of :mod:`lobutils.evaluation` needs. Every
feature at ``t`` uses bars ``<= t`` only.

Examples
--------
>>> s = 1_000_000_000
>>> tr = pd.DataFrame({"ts": np.array([1, 2, 3, 3]) * s + s // 2, "price": 100.0,
...                    "qty": [1.0, 2.0, 1.0, 1.0], "side": [1, -1, 1, 1]})
>>> bars = volume_bars(tr, "1s", start=s, end=5 * s)
>>> bars[["volume", "buy_volume", "n_trades"]].to_numpy().tolist()
[[0.0, 0.0, 0.0], [100.0, 100.0, 1.0], [200.0, 0.0, 1.0], [200.0, 200.0, 2.0], [0.0, 0.0, 0.0]]
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "VolumeResult",
    "VolumeTable",
    "bar_overview",
    "evaluate_markets",
    "evaluate_volume",
    "naive_forecasts",
    "naive_summary",
    "persistence",
    "to_volume",
    "volume_bars",
    "volume_table",
]

_NS = 1_000_000_000


def _step_ns(every: str | int) -> int:
    if isinstance(every, int | np.integer):
        step = int(every)
    else:
        step = int(pd.Timedelta(every).value)
    if step <= 0:
        raise ValueError(f"the bar length must be positive, got {every!r}")
    return step


def volume_bars(
    trades: pd.DataFrame,
    every: str | int = "1s",
    *,
    start: int | None = None,
    end: int | None = None,
    contract_value: float | None = None,
) -> pd.DataFrame:
    """Traded volume per bar of length ``every``, labelled by the bar's end.

    Parameters
    ----------
    trades : DataFrame
        The trade schema (``ts``, ``price``, ``qty``, ``side``; side +1 when the buyer was the
        aggressor).
    every : str or int
        Bar length (``"1s"``, ``"10s"``) or ns.
    start, end : int, optional
        First and last bar end (ns); default the trades' span, rounded out to whole bars.
    contract_value : float, optional
        Quote value of one contract (COIN-M); None for a linear market.

    Returns
    -------
    pandas.DataFrame
        ``ts`` (bar end, int64 ns), ``volume``, ``buy_volume``, ``sell_volume`` (quote
        currency), ``n_trades``, ``last_price`` (the last trade price at or before ``ts``,
        carried forward; NaN before the first trade).
    """
    step = _step_ns(every)
    ts = trades["ts"].to_numpy(np.int64)
    if ts.size and np.any(np.diff(ts) < 0):
        order = np.argsort(ts, kind="stable")
        trades = trades.iloc[order]
        ts = ts[order]
    if start is None or end is None:
        if ts.size == 0:
            raise ValueError("no trades: give start and end")
    lo = int(start) if start is not None else int(-(-ts[0] // step) * step)
    hi = int(end) if end is not None else int(-(-ts[-1] // step) * step)
    if hi < lo:
        raise ValueError("end is before start")
    grid = np.arange(lo, hi + 1, step, dtype=np.int64)
    px = trades["price"].to_numpy(np.float64)
    qty = trades["qty"].to_numpy(np.float64)
    side = trades["side"].to_numpy()
    notional = qty * float(contract_value) if contract_value else px * qty
    # bar j holds (grid[j] - step, grid[j]]
    j = np.searchsorted(grid, ts, side="left")
    inside = (j < grid.size) & (ts > grid[0] - step)
    j, notional, side, px_in = j[inside], notional[inside], side[inside], px[inside]
    n = grid.size
    vol = np.bincount(j, weights=notional, minlength=n)
    buy = np.bincount(j, weights=np.where(side > 0, notional, 0.0), minlength=n)
    cnt = np.bincount(j, minlength=n).astype(np.float64)
    last = np.full(n, np.nan)
    if j.size:
        # the last trade of each bar (trades are time-ordered), then carried forward
        last_idx = np.full(n, -1)
        last_idx[j] = np.arange(j.size)
        has = last_idx >= 0
        last[has] = px_in[last_idx[has]]
        last = pd.Series(last).ffill().to_numpy()
    return pd.DataFrame(
        {
            "ts": grid,
            "volume": vol,
            "buy_volume": buy,
            "sell_volume": vol - buy,
            "n_trades": cnt,
            "last_price": last,
        }
    )


@dataclass(frozen=True, eq=False)
class VolumeTable:
    """Bars with causal features and the forward volume target. Build with :func:`volume_table`.

    Attributes
    ----------
    bars : DataFrame
        From :func:`volume_bars`.
    X : DataFrame
        Features known at each bar's end.
    y : numpy.ndarray
        ``log(1 + volume of the next k bars)``; NaN where the horizon runs past the data.
    target_end : numpy.ndarray of int64
        When each target is realised: ``ts + k x every``.
    k : int
        Horizon in bars.
    every_ns : int
        Bar length (ns).
    """

    bars: pd.DataFrame = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    y: np.ndarray = field(repr=False)
    target_end: np.ndarray = field(repr=False)
    k: int
    every_ns: int

    @property
    def ts(self) -> np.ndarray:
        """Bar close times (int64 ns), one per row."""
        return self.bars["ts"].to_numpy(np.int64)

    def usable(self) -> np.ndarray:
        """Rows with finite features and a target.

        Returns
        -------
        numpy.ndarray of bool
            One flag per bar.
        """
        return np.isfinite(self.y) & np.isfinite(self.X.to_numpy(np.float64)).all(axis=1)


def _past_sum(x: np.ndarray, w: int) -> np.ndarray:
    """Sum of x over rows t-w+1..t (NaN for the first w-1 rows)."""
    c = np.r_[0.0, np.cumsum(x)]
    out = np.full(x.size, np.nan)
    if x.size >= w:
        out[w - 1 :] = c[w:] - c[:-w]
    return out


def volume_table(
    bars: pd.DataFrame,
    k: int = 10,
    *,
    lags: int = 5,
    windows: tuple[int, ...] = (10, 60),
    every: str | int | None = None,
    time_of_day: bool = True,
) -> VolumeTable:
    """Features and the forward target of :func:`volume_bars` output.

    Features at bar ``t`` (all from bars ``<= t``):

    - ``log_vol_lag{i}``: ``log(1 + volume)`` of bar ``t - i``, ``i = 0 .. lags - 1``;
    - ``log_vol_mean{w}``: ``log(1 + mean bar volume)`` over the last ``w`` bars;
    - ``flow_imb{w}``: (buys - sells) / (buys + sells) over the last ``w`` bars (0 without
      trades);
    - ``log_trades{w}``: ``log(1 + trades)`` over the last ``w`` bars;
    - ``abs_ret{w}``: absolute log change of the last trade price over ``w`` bars, in bps;
    - ``tod_sin``, ``tod_cos``: the time of day on the unit circle (with ``time_of_day``).

    Parameters
    ----------
    bars : DataFrame
        :func:`volume_bars` output, one row per bar.
    k : int
        Horizon in bars.
    lags : int
        Lagged bar volumes among the features.
    windows : tuple of int
        Look-back windows in bars.
    every : str or int, optional
        Bar length; default the spacing of ``bars["ts"]``.
    time_of_day : bool
        Add ``tod_sin`` and ``tod_cos`` (meaningful only on many days of data).

    Returns
    -------
    VolumeTable
        The bars, their past-only features and the forward target.

    Examples
    --------
    >>> s = 1_000_000_000
    >>> bars = pd.DataFrame({"ts": np.arange(1, 7) * s, "volume": [1.0, 0, 3, 0, 0, 2],
    ...     "buy_volume": [1.0, 0, 0, 0, 0, 2], "sell_volume": [0.0, 0, 3, 0, 0, 0],
    ...     "n_trades": [1.0, 0, 1, 0, 0, 1], "last_price": [100.0] * 6})
    >>> vt = volume_table(bars, k=2, lags=1, windows=(2,))
    >>> np.round(np.expm1(vt.y), 6).tolist()  # the volume of the next two bars
    [3.0, 3.0, 0.0, 2.0, nan, nan]
    >>> vt.X["flow_imb2"].round(2).tolist()
    [nan, 1.0, -1.0, -1.0, 0.0, 1.0]
    """
    if k < 1 or lags < 1 or any(w < 1 for w in windows):
        raise ValueError("k, lags and windows must be positive")
    ts = bars["ts"].to_numpy(np.int64)
    if every is None:
        d = np.diff(ts)
        if d.size == 0 or np.any(d != d[0]):
            raise ValueError("bars must be evenly spaced (or pass every)")
        step = int(d[0])
    else:
        step = _step_ns(every)
    v = bars["volume"].to_numpy(np.float64)
    b = bars["buy_volume"].to_numpy(np.float64)
    s = bars["sell_volume"].to_numpy(np.float64)
    cnt = bars["n_trades"].to_numpy(np.float64)
    last = bars["last_price"].to_numpy(np.float64)
    n = v.size
    cols: dict[str, np.ndarray] = {}
    lv = np.log1p(v)
    for i in range(lags):
        lag = np.full(n, np.nan)
        lag[i:] = lv[: n - i]
        cols[f"log_vol_lag{i}"] = lag
    with np.errstate(invalid="ignore", divide="ignore"):
        for w in windows:
            cols[f"log_vol_mean{w}"] = np.log1p(_past_sum(v, w) / w)
            tot = _past_sum(b + s, w)
            cols[f"flow_imb{w}"] = np.where(tot > 0, (_past_sum(b, w) - _past_sum(s, w)) / tot, 0.0)
            cols[f"flow_imb{w}"][np.isnan(tot)] = np.nan
            cols[f"log_trades{w}"] = np.log1p(_past_sum(cnt, w))
            r = np.full(n, np.nan)
            r[w:] = np.abs(1e4 * np.log(last[w:] / last[:-w]))
            cols[f"abs_ret{w}"] = r
    day = 86_400 * _NS
    ang = 2 * np.pi * ((ts % day) / day)
    if time_of_day:
        cols["tod_sin"], cols["tod_cos"] = np.sin(ang), np.cos(ang)
    fwd = np.full(n, np.nan)
    c = np.r_[0.0, np.cumsum(v)]
    if n > k:
        fwd[: n - k] = c[1 + k : n + 1] - c[1 : n - k + 1]
    return VolumeTable(
        bars=bars.reset_index(drop=True),
        X=pd.DataFrame(cols),
        y=np.log1p(fwd),
        target_end=ts + np.int64(k) * step,
        k=int(k),
        every_ns=step,
    )


def naive_forecasts(
    vt: VolumeTable, *, mean_window: int = 60, ewma_halflife: float = 10.0
) -> pd.DataFrame:
    """Naive forecasts of the target at every bar, from bars ``<= t`` only.

    - ``last_window``: the volume of the last ``k`` bars (the naive "same as just now");
    - ``rolling_mean``: ``k`` times the mean bar volume over the last ``mean_window`` bars;
    - ``ewma``: ``k`` times an exponentially weighted mean bar volume (half-life in bars).

    All in ``log(1 + volume)``, like the target. (A seasonal-naive forecast, the volume at the
    same time on the previous day, needs more than a day of data.)

    Parameters
    ----------
    vt : VolumeTable
        The bars and their target (:func:`volume_table`).
    mean_window : int
        Bars averaged by ``rolling_mean``.
    ewma_halflife : float
        Half-life of ``ewma``, in bars.

    Returns
    -------
    pandas.DataFrame
        Columns ``last_window``, ``rolling_mean`` and ``ewma``, one row per bar (NaN where the
        past is too short).

    Examples
    --------
    >>> s = 1_000_000_000
    >>> bars = pd.DataFrame({"ts": np.arange(1, 5) * s, "volume": [2.0, 4.0, 0.0, 6.0],
    ...     "buy_volume": 0.0, "sell_volume": 0.0, "n_trades": 1.0, "last_price": 1.0})
    >>> f = naive_forecasts(volume_table(bars, k=2, lags=1, windows=(1,)), mean_window=2)
    >>> np.round(np.expm1(f["last_window"]), 6).tolist(), np.round(np.expm1(f["rolling_mean"]), 6).tolist()
    ([nan, 6.0, 4.0, 6.0], [nan, 6.0, 4.0, 6.0])
    """
    v = vt.bars["volume"].to_numpy(np.float64)
    k = vt.k
    ew = pd.Series(v).ewm(halflife=float(ewma_halflife), adjust=False).mean().to_numpy()
    return pd.DataFrame(
        {
            "last_window": np.log1p(_past_sum(v, k)),
            "rolling_mean": np.log1p(k * _past_sum(v, mean_window) / mean_window),
            "ewma": np.log1p(k * ew),
        }
    )


def to_volume(log_volume: Any) -> np.ndarray:
    """Back from ``log(1 + V)`` to volume ``V``.

    Parameters
    ----------
    log_volume : array-like
        Values of ``log(1 + V)`` (targets or forecasts).

    Returns
    -------
    numpy.ndarray
        ``V = exp(log_volume) - 1`` as float64.

    Examples
    --------
    >>> to_volume([0.0, np.log(3.0)]).round(6).tolist()
    [0.0, 2.0]
    """
    return np.expm1(np.asarray(log_volume, dtype=np.float64))


# --------------------------------------------------------------------------------------
# one market's forecast comparison
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class VolumeResult:
    """What :func:`evaluate_volume` returns.

    Attributes
    ----------
    table : DataFrame
        :func:`lobutils.evaluation.results_table` of every model next to the naive forecasts
        (target ``log_volume``), with ``segment`` in front.
    predictions : DataFrame
        Test rows: ``ts``, ``y_true`` and one column per model and naive forecast (all in
        ``log(1 + volume)``).
    split : dict
        Row counts and independent test targets.
    history : DataFrame
        The Keras model's learning curve (empty without it).
    """

    table: pd.DataFrame = field(repr=False)
    predictions: pd.DataFrame = field(repr=False)
    split: dict
    history: pd.DataFrame = field(repr=False)


def evaluate_volume(
    vt: VolumeTable,
    name: str,
    *,
    T: int = 30,
    holdout: Any = None,
    models: tuple[str, ...] = ("linear", "xgboost"),
    keras_model: bool = True,
    lstm_units: int = 16,
    train_config: Any = None,
    mean_window: int = 60,
    ewma_halflife: float = 10.0,
    n_boot: int = 500,
    min_block_rows: int = 10,
    seed: int = 0,
) -> VolumeResult:
    """Forecast one market's forward volume with naive, classical and Keras models, scored
    with chapter 6's protocol.

    The rows are the bars with a target, finite features and a full window of ``T`` bars of
    finite features (the Keras model reads that window; the others read the last row), split
    by time and purged (:func:`lobutils.models.study.window_split`). The classical models
    (:mod:`lobutils.models.zoo`) are tuned on the validation block and refitted on train +
    validation; the Keras model (an LSTM of ``lstm_units`` over the standardised features,
    each column with its training mean and std) stops early on the validation block. All are
    scored on the same test bars, next to the best naive forecast, with block-bootstrap CIs
    (blocks of at least ``k`` bars).

    Parameters
    ----------
    vt : VolumeTable
        The market's bars, features and target (:func:`volume_table`).
    name : str
        Segment name written into the table.
    T : int
        Bars per window of the Keras model.
    holdout : lobutils.evaluation.HoldoutConfig, optional
        Fractions of the train, validation and test blocks, by time (the default config when
        None).
    models : tuple of str
        Zoo models (:data:`lobutils.models.zoo.MODEL_CONFIGS`).
    keras_model : bool
        Also train the Keras LSTM.
    lstm_units : int
        Width of its LSTM.
    train_config : lobutils.models.training.TrainConfig, optional
        Its training options (default: 20 epochs, MSE loss).
    mean_window, ewma_halflife
        Of :func:`naive_forecasts`.
    n_boot, min_block_rows, seed
        The bootstrap.

    Returns
    -------
    VolumeResult
        The scores next to the naive forecasts, the test predictions and the learning curves.
    """
    from lobutils import evaluation as ev
    from lobutils.models import study, zoo

    hold = holdout or ev.HoldoutConfig()
    Xa = vt.X.to_numpy(np.float64)
    valid = np.isfinite(Xa).all(axis=1)
    rows, split = study.window_split(valid, T, vt.usable(), vt.ts, vt.target_end, hold)
    y = vt.y[rows]
    X = vt.X.iloc[rows].reset_index(drop=True)
    test = np.asarray(split.test)
    naive = naive_forecasts(vt, mean_window=mean_window, ewma_halflife=ewma_halflife)
    base = {c: naive[c].to_numpy()[rows][test] for c in naive.columns}
    preds: dict[str, np.ndarray] = {}
    for mc in zoo.make_models(list(models), seed=seed):
        tr = zoo.tune(mc, "regression", X, y, split)
        preds[mc.name] = np.asarray(zoo.fit_final(tr.best, "regression", X, y, split).y_pred)
    history = pd.DataFrame()
    if keras_model:
        from lobutils.models import deeplob as dl
        from lobutils.models.training import TrainConfig
        from lobutils.models.windows import fit_normalizer

        cfg = train_config or TrainConfig(epochs=20, loss="mse", seed=seed)
        data = Xa.astype(np.float32)
        norm = fit_normalizer(data, rows[split.train], T, groups={})
        fit = study.fit_windows(
            lambda: dl.build_l1_lstm(T=T, n_features=data.shape[1], n_outputs=1, units=lstm_units),
            data,
            vt.y,
            rows[split.train],
            rows[split.val],
            rows[split.test],
            T=T,
            task="regression",
            config=cfg,
            normalizer=norm,
        )
        preds["lstm"] = np.asarray(fit.y_pred)
        history = fit.train.history.assign(segment=name, model="lstm")
    block = int(min(test.size, max(vt.k, min_block_rows)))
    boot = ev.BootstrapConfig(block_length=block, n_boot=n_boot, seed=seed)
    table = ev.results_table(
        y[test],
        preds,
        base,
        task="regression",
        config=boot,
        target="log_volume",
        horizon=f"{vt.k} bars",
        dm_horizon=vt.k,
    )
    table.insert(0, "segment", name)
    table["n_test_independent"] = test.size / vt.k
    out = pd.DataFrame({"segment": name, "ts": vt.ts[rows][test], "y_true": y[test]})
    for nm, p in {**preds, **base}.items():
        out[nm] = p
    summary = {
        "segment": name,
        "n_rows": int(rows.size),
        "n_train": int(len(split.train)),
        "n_val": int(len(split.val)),
        "n_test": int(test.size),
        "n_test_independent": test.size / vt.k,
    }
    return VolumeResult(table, out, summary, history)


# --------------------------------------------------------------------------------------
# several markets: overview, persistence, the comparison and its summary
# --------------------------------------------------------------------------------------


def bar_overview(bars_of: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per market: bars, trades, empty bars, bar volume, buy share.

    Parameters
    ----------
    bars_of : dict
        Segment name -> :func:`volume_bars` output.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment; counts as int, volumes in whole USD, shares to 3 digits.

    Examples
    --------
    >>> b = pd.DataFrame({"volume": [0.0, 10.0, 30.0], "buy_volume": [0.0, 10.0, 0.0],
    ...                   "n_trades": [0.0, 1.0, 2.0]})
    >>> bar_overview({"x": b}).loc["x"].tolist()
    [3.0, 3.0, 0.333, 10.0, 13.0, 0.25]
    """
    rows = {}
    for name, b in bars_of.items():
        v = b["volume"]
        rows[name] = {
            "bars": len(b),
            "trades": int(b["n_trades"].sum()),
            "empty bars": round(float((v == 0).mean()), 3),
            "median bar (usd)": round(float(v.median())),
            "mean bar (usd)": round(float(v.mean())),
            "buy share": round(float(b["buy_volume"].sum() / max(v.sum(), 1e-12)), 3),
        }
    out = pd.DataFrame(rows).T.rename_axis("segment")
    return out.astype({"bars": int, "trades": int, "median bar (usd)": int, "mean bar (usd)": int})


def persistence(bars: pd.DataFrame, k: int) -> dict[str, float]:
    """How persistent a market's log volume is, bar by bar and over ``k`` bars.

    Parameters
    ----------
    bars : DataFrame
        :func:`volume_bars` output.
    k : int
        Bars per window.

    Returns
    -------
    dict
        ``lag1``: correlation of ``log(1 + V)`` with the next bar's; ``next_k``: correlation
        of the log volume of the last ``k`` bars with that of the next ``k`` bars (what the
        last-window forecast lives on); ``mean_over_median``: mean bar volume / median (NaN
        when the median bar has no trade).

    Examples
    --------
    A synthetic market whose volume switches between two levels every ten bars: a bar is
    mostly followed by one at its level, but five bars are a poor guide to the next five.

    >>> v = np.tile(np.r_[np.full(10, 100.0), np.full(10, 1.0)], 10)
    >>> r = persistence(pd.DataFrame({"volume": v}), k=5)
    >>> round(r["lag1"], 2), round(r["next_k"], 2)
    (0.81, -0.08)
    """
    v = bars["volume"]
    med = float(v.median())
    return {
        "lag1": float(pd.Series(np.log1p(v.to_numpy())).autocorr(1)),
        "next_k": float(pd.Series(np.log1p(v.rolling(k).sum().to_numpy())).autocorr(k)),
        "mean_over_median": float(v.mean()) / med if med > 0 else math.nan,
    }


def evaluate_markets(
    tables: dict[str, VolumeTable], **kwargs: Any
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """:func:`evaluate_volume` on every market, stacked.

    Parameters
    ----------
    tables : dict
        Segment name -> :class:`VolumeTable`.
    **kwargs
        Passed to :func:`evaluate_volume`.

    Returns
    -------
    table, predictions, splits, history : pandas.DataFrame
        The markets' results, test predictions, split sizes and learning curves.
    skipped : dict
        Segment name -> why it could not be evaluated.
    """
    results, skipped = {}, {}
    for name, vt in tables.items():
        try:
            results[name] = evaluate_volume(vt, name, **kwargs)
        except ValueError as err:
            skipped[name] = str(err)
    rs = list(results.values())
    if not rs:
        empty = pd.DataFrame()
        return empty, empty, empty, empty, skipped
    return (
        pd.concat([r.table for r in rs], ignore_index=True),
        pd.concat([r.predictions for r in rs], ignore_index=True),
        pd.DataFrame([r.split for r in rs]),
        pd.concat([r.history for r in rs], ignore_index=True),
        skipped,
    )


def naive_summary(table: pd.DataFrame, metric: str = "mse") -> dict[str, Any]:
    """The fitted models against the best naive forecast of each market, on ``metric``.

    Parameters
    ----------
    table : DataFrame
        :func:`evaluate_markets`' table.
    metric : str
        A loss (lower is better).

    Returns
    -------
    dict
        ``best_naive`` (Series: naive forecast -> markets where it is the best),
        ``best_by_segment`` (segment -> its best naive forecast), ``models``
        (model rows), ``wins`` (rows that beat the best naive forecast beyond the interval),
        ``losses`` (rows worse beyond it), ``r2`` (the models' R² against the test mean).

    Examples
    --------
    >>> t = pd.DataFrame({"segment": "a", "metric": "mse", "role": ["baseline", "model"],
    ...     "model": ["ewma", "xgb"], "value": [1.0, 0.5], "diff_ci_low": [None, -0.4],
    ...     "beats_baseline": [None, True]})
    >>> s = naive_summary(t)
    >>> s["best_naive"].to_dict(), len(s["wins"]), len(s["losses"])
    ({'ewma': 1}, 1, 0)
    """
    view = table[table["metric"] == metric]
    naive = view[view["role"] == "baseline"]
    best = naive.loc[naive.groupby("segment")["value"].idxmin()]
    models = view[view["role"] == "model"]
    return {
        "best_naive": best["model"].value_counts(),
        "best_by_segment": dict(zip(best["segment"], best["model"], strict=True)),
        "models": models,
        "wins": models[models["beats_baseline"].astype("boolean").fillna(False).astype(bool)],
        "losses": models[models["diff_ci_low"] > 0],
        "r2": table[(table["metric"] == "r2") & (table["role"] == "model")],
    }
