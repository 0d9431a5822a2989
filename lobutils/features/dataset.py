"""One recording segment as a modelling table: causal features, forward targets, target ends.

Chapters 6 to 10 all start from the same table, and :func:`build_dataset` is the one place that
makes it. The pipeline is

``read_binance_recording`` -> ``book.reconstruct`` -> ``sampling.sample_clock`` (when a grid
is given) -> ``features.compute_features`` -> ``targets.forward_returns``.

Clock and horizon units
-----------------------
With ``grid="1s"`` (any pandas duration) the rows are the book on that clock grid and the
horizons are in **seconds**: the target of row ``i`` is the mid at ``ts[i] + h``. With
``grid=None`` the rows are the book after every applied diff (event time) and the horizons
are in **events**: the target of row ``i`` is the mid ``h`` rows later. :attr:`Dataset.unit`
says which (``"s"`` or ``"events"``), and the horizon labels carry it (``"10s"``, ``"100ev"``).

What is causal and what is not
------------------------------
``X`` and ``features`` at row ``i`` use book states and trades stamped at or before ``ts[i]``
only; truncating the recording leaves every earlier row unchanged (the tests check this). The
targets look forward by construction: ``returns``, ``bid_change`` and ``ask_change`` are NaN
where the horizon runs past the end of the data, never a shorter horizon. ``target_end`` says
when each target is realised (int64 ns), which is what the purge of
:mod:`lobutils.evaluation` needs: ``ts + h`` on a clock grid, ``ts[i + h]`` in event time
(int64 max where ``i + h`` lies past the data).

Gaps in the book (a broken update-id chain) give NaN rows, on the grid and in event time, so a
target or a windowed feature is never bridged across a gap.

Nothing is cached on disk: a segment of the bundled data builds in about a second.

Examples
--------
>>> from lobutils.data.catalog import segment
>>> ds = build_dataset(segment("usdm_ethusdt"), grid="1s", levels=10, horizons=(1, 10))
>>> ds.name, ds.unit, ds.horizon_labels
('usdm_ethusdt', 's', ('1s', '10s'))
>>> int(ds.target_end["10s"].iloc[0] - ds.ts[0]) == 10 * 10**9
True
>>> bool(np.isnan(ds.returns["10s"].iloc[-1])), bool(np.isfinite(ds.returns["10s"].iloc[0]))
(True, True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lobutils.book import replay as _book
from lobutils.book import sampling as _sampling
from lobutils.data import binance as _io
from lobutils.data.catalog import Segment, parse_file_name
from lobutils.features import core as _features
from lobutils.features import targets as _targets
from lobutils.markets import contract_value
from lobutils.schema import book_columns, book_levels

__all__ = [
    "DEFAULT_FEATURES",
    "TS_NEVER",
    "Dataset",
    "build_dataset",
    "horizon_label",
]

TS_NEVER = np.iinfo(np.int64).max
"""``target_end`` of an event-time row whose horizon runs past the data (never realised)."""

DEFAULT_FEATURES: tuple[str, ...] = (
    "spread_bps",
    "micro_minus_mid_bps",
    "mid_minus_vamp_bps",
    "qi",
    "ofi_*",
    "realized_vol",
    "ti",
    "trade_intensity",
    "past_ret_*",
)
"""The model features ``X`` (``*`` expands to every OFI level and every past-return window).

They are the stationary, scale-free readings of chapter 3's features: prices enter only as
distances or returns in bps, never as levels (a price level is a unit-root series; chapter 5),
and the time of day is left out (minutes of data would turn it into a time index)."""

_NS_PER_S = 1_000_000_000


def horizon_label(h: int, unit: str) -> str:
    """The label of a horizon: ``"10s"`` (seconds) or ``"100ev"`` (events).

    Parameters
    ----------
    h : int
        The horizon in ``unit``.
    unit : {"s", "events"}
        Seconds on a clock grid, events in event time.

    Returns
    -------
    str
        ``"<h>s"`` or ``"<h>ev"``.

    Raises
    ------
    ValueError
        For another unit.

    Examples
    --------
    >>> horizon_label(10, "s"), horizon_label(100, "events")
    ('10s', '100ev')
    """
    if unit == "s":
        return f"{h}s"
    if unit == "events":
        return f"{h}ev"
    raise ValueError(f"unit must be 's' or 'events', got {unit!r}")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A segment's modelling table. Build it with :func:`build_dataset`.

    Every array and frame has one row per book state (grid time or event), in time order,
    with a ``RangeIndex`` ``0..n-1``.

    Attributes
    ----------
    name, market, symbol : str
        The segment (``"cm_btcusd_perp"``, ``"cm"``, ``"btcusd_perp"``).
    contract_value : float or None
        USD per contract on COIN-M markets, None on linear ones.
    grid : str or None
        The clock grid (``"1s"``), or None for event time.
    unit : {"s", "events"}
        Unit of ``horizons``.
    horizons : tuple of int
        Target horizons in ``unit``.
    levels : int
        Book levels per side used for the features.
    ts : numpy.ndarray of int64
        Row times (ns): grid times, or the exchange time of each event.
    mid, bid, ask, spread_bps : numpy.ndarray
        The level-1 state at each row (prices in quote currency; spread in bps of the mid, the
        cost input of :func:`lobutils.evaluation.pnl_net_of_costs`).
    features : pandas.DataFrame
        Everything :func:`lobutils.features.core.compute_features` returns, plus the derived
        columns of ``X``.
    X : pandas.DataFrame
        The model features (:data:`DEFAULT_FEATURES` or the ``feature_columns`` asked for).
    returns : pandas.DataFrame
        Forward mid log return (bps), one column per horizon label.
    bid_change, ask_change : pandas.DataFrame
        Forward log change (bps) of the best bid and the best ask, per horizon label: the
        future L1 state relative to the current one (best-quote change targets; 0 = persistence).
    target_end : pandas.DataFrame
        int64 ns at which each target is realised, per horizon label.
    feature_config : lobutils.features.core.FeatureConfig
        The configuration the features were computed with.
    """

    name: str
    market: str
    symbol: str
    contract_value: float | None
    grid: str | None
    unit: str
    horizons: tuple[int, ...]
    levels: int
    ts: np.ndarray = field(repr=False)
    mid: np.ndarray = field(repr=False)
    bid: np.ndarray = field(repr=False)
    ask: np.ndarray = field(repr=False)
    spread_bps: np.ndarray = field(repr=False)
    features: pd.DataFrame = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    returns: pd.DataFrame = field(repr=False)
    bid_change: pd.DataFrame = field(repr=False)
    ask_change: pd.DataFrame = field(repr=False)
    target_end: pd.DataFrame = field(repr=False)
    feature_config: _features.FeatureConfig = field(repr=False)

    def __len__(self) -> int:
        return int(self.ts.size)

    @property
    def horizon_labels(self) -> tuple[str, ...]:
        """The column names of ``returns`` and ``target_end``: ``("1s", "10s", ...)``."""
        return tuple(horizon_label(h, self.unit) for h in self.horizons)

    def label(self, horizon: int | str) -> str:
        """The label of a horizon given as a number (in ``unit``) or as its label.

        Parameters
        ----------
        horizon : int or str
            A horizon in ``unit`` (``10``) or its label (``"10s"``).

        Returns
        -------
        str
            The horizon's label, a column of ``returns`` and ``target_end``.

        Raises
        ------
        KeyError
            If the dataset has no such horizon.
        """
        if isinstance(horizon, str):
            if horizon not in self.horizon_labels:
                raise KeyError(f"no horizon {horizon!r}; the dataset has {self.horizon_labels}")
            return horizon
        lab = horizon_label(int(horizon), self.unit)
        if lab not in self.horizon_labels:
            raise KeyError(f"no horizon {horizon!r} ({lab}); the dataset has {self.horizon_labels}")
        return lab

    def horizon_value(self, horizon: int | str) -> int:
        """The horizon as a number in ``unit``.

        Parameters
        ----------
        horizon : int or str
            A horizon in ``unit`` (``10``) or its label (``"10s"``).

        Returns
        -------
        int
            The horizon in ``unit`` (s or events).
        """
        return self.horizons[self.horizon_labels.index(self.label(horizon))]

    def horizon_rows(self, horizon: int | str) -> int:
        """Rows spanned by one target (at least 1): ``h / grid`` on a grid, ``h`` in events.

        The block bootstrap needs blocks at least this long, and the test block holds about
        ``n_test / horizon_rows`` independent targets.

        Parameters
        ----------
        horizon : int or str
            A horizon in ``unit`` (``10``) or its label (``"10s"``).

        Returns
        -------
        int
            Rows per target, at least 1.
        """
        h = self.horizon_value(horizon)
        if self.grid is None:
            return max(1, h)
        step = _sampling.to_ns(self.grid)
        return max(1, int(np.ceil(h * _NS_PER_S / step)))

    def usable(self, horizon: int | str, columns: Sequence[str] | None = None) -> np.ndarray:
        """Boolean mask of rows with a finite target at ``horizon`` and finite features.

        Parameters
        ----------
        horizon : int or str
            A horizon in ``unit`` (``10``) or its label (``"10s"``).
        columns : sequence of str, optional
            Feature columns that must be finite (default: all of ``X``).

        Returns
        -------
        numpy.ndarray
            bool, one per row: True where the target and the features are finite.
        """
        lab = self.label(horizon)
        cols = list(self.X.columns) if columns is None else list(columns)
        ok = np.isfinite(self.returns[lab].to_numpy())
        if cols:
            ok &= np.isfinite(self.X[cols].to_numpy(np.float64)).all(axis=1)
        return ok

    def summary(self) -> dict[str, Any]:
        """A few numbers for a chapter's overview table and ``metrics.json``.

        Returns
        -------
        dict of str to object
            ``market``, ``symbol``, ``contract_value``, ``rows``, ``minutes`` (span of ``ts``),
            ``features`` (columns of ``X``), ``median_spread_bps`` and ``usable_<label>`` (rows with a
            finite target and features) per horizon.
        """
        span = float(self.ts[-1] - self.ts[0]) / _NS_PER_S if len(self) else 0.0
        out: dict[str, Any] = {
            "market": self.market,
            "symbol": self.symbol,
            "contract_value": self.contract_value,
            "rows": len(self),
            "minutes": span / 60.0,
            "features": self.X.shape[1],
            "median_spread_bps": float(np.nanmedian(self.spread_bps)) if len(self) else np.nan,
        }
        for lab in self.horizon_labels:
            out[f"usable_{lab}"] = int(self.usable(lab).sum())
        return out


# --------------------------------------------------------------------------------------
# building
# --------------------------------------------------------------------------------------


def _identify(source: Any) -> tuple[str, str, str, Any]:
    """Name, market, symbol and what to read, for a Segment, file(s) or a Recording."""
    if isinstance(source, Segment):
        return source.name, source.market, source.symbol, source.files
    if isinstance(source, _io.Recording):
        first = Path(source.sources[0]).name if source.sources else ""
        try:
            market, symbol, _ = parse_file_name(first)
        except ValueError:
            market = "spot" if source.market == "spot" else "futures"
            symbol = source.symbol
        return f"{market}_{symbol}", market, symbol, source
    if isinstance(source, str | os.PathLike):
        files = [Path(source)]
    elif isinstance(source, Iterable):
        files = [Path(f) for f in source]
    else:
        raise TypeError(
            "build_dataset takes a lobutils.data.catalog.Segment, a recording file or files, or a "
            f"lobutils.data.binance.Recording; got {type(source).__name__}"
        )
    if not files:
        raise ValueError("no recording file given")
    market, symbol, _ = parse_file_name(files[0].name)
    return f"{market}_{symbol}", market, symbol, files


def _pick_columns(available: Sequence[str], patterns: Sequence[str]) -> list[str]:
    out: list[str] = []
    for pat in patterns:
        if pat.endswith("*"):
            hits = [c for c in available if c.startswith(pat[:-1])]
        else:
            if pat not in available:
                raise KeyError(f"no feature column {pat!r}; available: {list(available)}")
            hits = [pat]
        out.extend(h for h in hits if h not in out)
    return out


def _invalid_to_nan(frame: pd.DataFrame) -> pd.DataFrame:
    """Event-time frame: rows that are not a valid book (gap markers, crossed) become unknown."""
    if "status" not in frame.columns:
        return frame
    bad = frame["status"].to_numpy() != _book.VALID
    out = frame.drop(columns="status")
    if bad.any():
        out = out.copy()
        level_cols = book_columns(book_levels(out))[3:]
        out.loc[bad, level_cols] = np.nan
    return out


def build_dataset(
    segment_or_files: Segment | str | os.PathLike | Sequence[str | os.PathLike] | _io.Recording,
    grid: str | None = "1s",
    levels: int = 10,
    horizons: Sequence[int] = (1, 10, 60),
    feature_config: _features.FeatureConfig | None = None,
    *,
    feature_columns: Sequence[str] | None = None,
) -> Dataset:
    """Read, replay, sample and featurise one segment; attach its forward targets.

    Parameters
    ----------
    segment_or_files : Segment, path, sequence of paths, or lobutils.data.binance.Recording
        The recording. Files must be named ``<market>_<symbol>_<YYYYMMDD>.gz`` (the bundled
        format); several files are one continuous segment, read in the order given.
    grid : str or None
        Clock-grid step (``"1s"``, ``"100ms"``); None for event time (one row per diff).
    levels : int
        Book levels per side kept for the features. VAMP needs enough depth to fill its cutoff
        (chapter 3): with the default 60,000 USD cutoff, 10 levels leave it undefined on many
        rows of the thinner books, 25 levels on few.
    horizons : sequence of int
        Target horizons: **seconds** on a clock grid, **events** in event time.
    feature_config : lobutils.features.core.FeatureConfig, optional
        Default ``FeatureConfig()`` with the segment's contract value. A config whose
        ``contract_value`` is None gets the segment's; one that contradicts it raises.
    feature_columns : sequence of str, optional
        Columns of ``X``; default :data:`DEFAULT_FEATURES`. A trailing ``*`` matches a prefix.

    Returns
    -------
    Dataset
        The modelling table: causal features, forward targets and target ends.

    Examples
    --------
    Event time, horizons in events:

    >>> from lobutils.data.catalog import segment
    >>> ev = build_dataset(segment("usdm_btcusdt"), grid=None, horizons=(10, 100))
    >>> ev.unit, ev.horizon_labels, len(ev) > 6000
    ('events', ('10ev', '100ev'), True)
    >>> bool((ev.target_end["10ev"].to_numpy()[:-10] == ev.ts[10:]).all())
    True
    """
    hs = _check_horizons_and_levels(horizons, levels)
    name, market, symbol, what = _identify(segment_or_files)
    cv = contract_value(market, symbol)
    cfg = _with_contract_value(feature_config or _features.FeatureConfig(), cv, name)
    rec = what if isinstance(what, _io.Recording) else _io.read_binance_recording(what)
    frame, unit = _book_frame(rec, int(levels), grid)
    ts = frame["ts"].to_numpy(np.int64)
    labels = tuple(horizon_label(h, unit) for h in hs)
    feats = _model_features(frame, rec.trades, cfg, dict(zip(hs, labels, strict=True)), unit)
    X = feats[_pick_columns(list(feats.columns), feature_columns or DEFAULT_FEATURES)].copy()
    m = feats["mid"].to_numpy()
    bid = frame["bid_px_1"].to_numpy(np.float64)
    ask = frame["ask_px_1"].to_numpy(np.float64)
    returns, bchg, achg, tend = {}, {}, {}, {}
    for h, lab in zip(hs, labels, strict=True):
        returns[lab] = _forward(m, ts, h, unit)
        bchg[lab] = _forward(bid, ts, h, unit)
        achg[lab] = _forward(ask, ts, h, unit)
        tend[lab] = _target_end(ts, h, unit)

    return Dataset(
        name=name,
        market=market,
        symbol=symbol,
        contract_value=cv,
        grid=grid,
        unit=unit,
        horizons=hs,
        levels=int(levels),
        ts=ts,
        mid=m,
        bid=bid,
        ask=ask,
        spread_bps=feats["spread_bps"].to_numpy(),
        features=feats,
        X=X,
        returns=pd.DataFrame(returns),
        bid_change=pd.DataFrame(bchg),
        ask_change=pd.DataFrame(achg),
        target_end=pd.DataFrame(tend),
        feature_config=cfg,
    )


def _check_horizons_and_levels(horizons: Sequence[int], levels) -> tuple[int, ...]:
    hs = tuple(int(h) for h in horizons)
    if not hs or any(h < 1 for h in hs) or len(set(hs)) != len(hs):
        raise ValueError(f"horizons must be distinct positive integers, got {tuple(horizons)}")
    if not isinstance(levels, int | np.integer) or levels < 1:
        raise ValueError(f"levels must be a positive integer, got {levels!r}")
    return hs


def _with_contract_value(
    cfg: _features.FeatureConfig, cv: float | None, name: str
) -> _features.FeatureConfig:
    """``cfg`` with the segment's contract value filled in; a contradicting one raises."""
    if cfg.contract_value is None and cv is not None:
        return replace(cfg, contract_value=cv)
    if cfg.contract_value != cv:
        raise ValueError(
            f"feature_config.contract_value={cfg.contract_value!r} contradicts the segment "
            f"{name!r} (contract value {cv!r})"
        )
    return cfg


def _book_frame(rec: _io.Recording, levels: int, grid: str | None) -> tuple[pd.DataFrame, str]:
    """The replayed book on the clock grid (unit ``"s"``) or in event time (``"events"``)."""
    book = _book.reconstruct(rec, levels=levels, include_invalid=True).frame
    if grid is None:
        return _invalid_to_nan(book).reset_index(drop=True), "events"
    return _sampling.sample_clock(book, grid).reset_index(drop=True), "s"


def _model_features(
    frame: pd.DataFrame,
    trades: pd.DataFrame,
    cfg: _features.FeatureConfig,
    labels: dict[int, str],
    unit: str,
) -> pd.DataFrame:
    """Chapter 3's features plus the derived spreads in bps and a past return per horizon."""
    ts = frame["ts"].to_numpy(np.int64)
    feats = _features.compute_features(frame, trades, cfg)
    m = feats["mid"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        feats["micro_minus_mid_bps"] = _features.BPS * (feats["microprice"].to_numpy() - m) / m
        feats["mid_minus_vamp_bps"] = _features.BPS * (m - feats["vamp"].to_numpy()) / m
    for h, lab in labels.items():
        if unit == "s":
            feats[f"past_ret_{lab}"] = _features.past_returns(m, ts=ts, seconds=float(h))
        else:
            feats[f"past_ret_{lab}"] = _features.past_returns(m, events=h)
    return feats


def _forward(p: np.ndarray, ts: np.ndarray, h: int, unit: str) -> np.ndarray:
    """Forward log change (bps) of ``p`` over ``h`` seconds or events."""
    if unit == "s":
        return _targets.forward_returns(p, ts=ts, seconds=float(h))
    return _targets.forward_returns(p, events=h)


def _target_end(ts: np.ndarray, h: int, unit: str) -> np.ndarray:
    """int64 ns at which a target over ``h`` seconds or events is realised (never: TS_NEVER)."""
    if unit == "s":
        return ts + np.int64(h) * _NS_PER_S
    e = np.full(ts.size, TS_NEVER, dtype=np.int64)
    if h < ts.size:
        e[:-h] = ts[h:]
    return e
