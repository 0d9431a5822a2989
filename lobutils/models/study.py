"""Chapter 6's protocol for window models: same splits, baselines, CIs, and classical rivals.

A deep model reads a window of ``T`` book states; a classical model reads the features of
one row. To compare them honestly they must be scored on the same test rows with the same
labels. :func:`make_window_task` picks those rows for one segment and horizon:

1. rows with a finite forward return at every horizon asked for, finite features
   (``Dataset.X``) and a complete book over the whole window (:func:`window_ends`);
2. a chronological train / validation / test split of those rows by time, purged with each
   row's longest ``target_end`` (:func:`lobutils.evaluation.train_val_test_split`);
3. then the windows that would straddle the boundary of two parts are dropped, so that no
   window mixes training and validation (or validation and test) rows;
4. labels: the 3-class threshold is ``k x std`` of the *training* rows' returns.

:func:`fit_classical` fits the chapter 6 zoo on the same rows (tuned on the validation block),
:func:`baselines` gives the naive forecasts, and :func:`score` puts every model next to its
best baseline with block-bootstrap CIs (:func:`lobutils.evaluation.results_table`).
:func:`pool` stacks several segments into one array, for a pooled model.
:func:`signals_table` writes a classifier's test probabilities as trading signals (chapter 8).

Examples
--------
>>> from lobutils.data.catalog import segment
>>> from lobutils.models.windows import load_lob
>>> lob = load_lob(segment("spot_ethusdt"), grid="1s", horizons=(10,))
>>> wt = make_window_task(lob, (10,), "three_class", T=20)
>>> wt.task, wt.classes, wt.horizon_rows
('classification', ('down', 'flat', 'up'), 10)
>>> bool(wt.train_ends.max() < wt.val_ends.min() - 20 < wt.test_ends.min() - 40)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.features import targets as _targets
from lobutils.models.windows import LOBData, Normalizer, fit_normalizer, window_ends

__all__ = [
    "Pooled",
    "WindowTask",
    "baselines",
    "ci_pivot",
    "fit_classical",
    "fit_windows",
    "make_window_task",
    "pool",
    "run_key",
    "score",
    "signals_table",
    "window_split",
]

TARGETS = ("three_class", "return", "l1")
"""``three_class``: down / flat / up; ``return``: forward mid return (bps); ``l1``: the changes
of best bid, best ask and mid (bps), three outputs."""


@dataclass(frozen=True, eq=False)
class WindowTask:
    """One segment's window problem, split by time. Build it with :func:`make_window_task`.

    Attributes
    ----------
    segment, market, symbol : str
        Which recording, on which market and symbol.
    target : str
        From :data:`TARGETS`.
    task : {"classification", "regression"}
        ``classification`` for ``three_class``, else ``regression``.
    horizons : tuple of str
        Horizon labels; the first is the primary one (labels, baselines).
    horizon_rows : int
        Rows spanned by one primary target (the bootstrap block length's floor).
    T : int
        Window length (rows).
    lob : LOBData
        The segment's dataset and book (:func:`lobutils.models.windows.load_lob`).
    rows : numpy.ndarray
        The kept dataset rows (window ends), sorted.
    split : lobutils.evaluation.TrainValTest
        Positions into ``rows``.
    y : numpy.ndarray
        The primary target per kept row: class codes or return (bps); ``(n, 3)`` for ``l1``.
    targets : dict
        Per horizon label, the raw target of **every** dataset row (NaN where undefined),
        what :func:`lobutils.models.training.fit_predict` takes; for ``three_class`` the
        class codes (-1 where undefined).
    returns : numpy.ndarray
        Forward mid return (bps) of the primary horizon per kept row.
    X : pandas.DataFrame
        The classical features at the kept rows.
    ts, target_end : numpy.ndarray of int64
        Per kept row (the target end of the primary horizon).
    threshold : lobutils.features.targets.Threshold or None
        The 3-class flat band (bps), fitted on the training rows only; None for a regression.
    classes : tuple of str or None
        Class names in code order (``down``, ``flat``, ``up``); None for a regression.
    """

    segment: str
    market: str
    symbol: str
    target: str
    task: str
    horizons: tuple[str, ...]
    horizon_rows: int
    T: int
    lob: LOBData = field(repr=False)
    rows: np.ndarray = field(repr=False)
    split: ev.TrainValTest = field(repr=False)
    y: np.ndarray = field(repr=False)
    targets: dict[str, np.ndarray] = field(repr=False)
    returns: np.ndarray = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    ts: np.ndarray = field(repr=False)
    target_end: np.ndarray = field(repr=False)
    threshold: Any = None
    classes: tuple[str, ...] | None = None

    @property
    def train_ends(self) -> np.ndarray:
        """Dataset rows that end the training windows (int64, sorted)."""
        return self.rows[self.split.train]

    @property
    def val_ends(self) -> np.ndarray:
        """Dataset rows that end the validation windows (int64, sorted)."""
        return self.rows[self.split.val]

    @property
    def test_ends(self) -> np.ndarray:
        """Dataset rows that end the test windows (int64, sorted)."""
        return self.rows[self.split.test]

    @property
    def labels(self) -> np.ndarray | None:
        """Class codes ``0 .. len(classes) - 1``, or None for a regression."""
        return None if self.classes is None else np.arange(len(self.classes))

    def y_test(self) -> np.ndarray:
        """The primary target of the test rows.

        Returns
        -------
        numpy.ndarray
            ``y`` at the test positions: class codes or return (bps); ``(n, 3)`` for ``l1``.
        """
        return self.y[self.split.test]

    def summary(self) -> dict[str, Any]:
        """Row counts and the number of independent test targets.

        Returns
        -------
        dict
            ``segment``, ``target``, ``horizon``, ``T``, the row counts ``n_rows``,
            ``n_train``, ``n_val``, ``n_test``, ``horizon_rows`` and ``n_test_independent``
            (test rows over horizon rows); the test class shares ``test_share_<class>`` and
            ``threshold_bps`` for a classification.
        """
        s = self.split
        out = {
            "segment": self.segment,
            "target": self.target,
            "horizon": self.horizons[0],
            "T": self.T,
            "n_rows": len(self.rows),
            "n_train": len(s.train),
            "n_val": len(s.val),
            "n_test": len(s.test),
            "horizon_rows": self.horizon_rows,
            "n_test_independent": len(s.test) / self.horizon_rows,
        }
        if self.classes is not None:
            sh = np.bincount(self.y_test(), minlength=len(self.classes)) / max(len(s.test), 1)
            out.update({f"test_share_{c}": float(v) for c, v in zip(self.classes, sh, strict=True)})
        if self.threshold is not None:
            out["threshold_bps"] = float(self.threshold.value)
        return out

    def for_horizon(self, horizon: str) -> WindowTask:
        """The same rows and split with another of the task's horizons as the primary one.

        Its targets, target ends and bootstrap block replace the primary horizon's, e.g. to
        score a multi-task head.

        Parameters
        ----------
        horizon : str
            One of :attr:`horizons`.

        Returns
        -------
        WindowTask
            A copy with ``horizon`` first.

        Raises
        ------
        KeyError
            When ``horizon`` is not one of the task's horizons.
        """
        if horizon not in self.horizons:
            raise KeyError(f"{horizon!r} is not one of the task's horizons {self.horizons}")
        ds = self.lob.dataset
        labs = (horizon, *[h for h in self.horizons if h != horizon])
        return replace(
            self,
            horizons=labs,
            horizon_rows=ds.horizon_rows(horizon),
            y=self.targets[horizon][self.rows],
            returns=ds.returns[horizon].to_numpy()[self.rows],
            target_end=ds.target_end[horizon].to_numpy()[self.rows],
        )

    def normalizer(self, **kwargs: Any) -> Normalizer:
        """:func:`~lobutils.models.windows.fit_normalizer` on this task's training windows.

        Parameters
        ----------
        **kwargs
            Options of :func:`~lobutils.models.windows.fit_normalizer`.

        Returns
        -------
        Normalizer
            Fitted on the training windows only.
        """
        return fit_normalizer(self.lob.lob, self.train_ends, self.T, **kwargs)


def make_window_task(
    lob: LOBData,
    horizons: Sequence[int | str],
    target: str = "three_class",
    *,
    T: int = 100,
    holdout: ev.HoldoutConfig | None = None,
    k: float = 1.0,
    features: Sequence[str] | None = None,
) -> WindowTask:
    """Rows, split and targets of one window problem (see the module docstring).

    Parameters
    ----------
    lob : LOBData
        From :func:`lobutils.models.windows.load_lob`.
    horizons : sequence of int or str
        Horizons of the dataset (seconds or labels); the first is the primary one. Every
        kept row has a finite target at each, and the purge uses the longest.
    target : {"three_class", "return", "l1"}
        What the models predict (:data:`TARGETS`).
    T : int
        Window length (rows).
    holdout : lobutils.evaluation.HoldoutConfig
        Fractions by time (0.6 / 0.2 / 0.2 by default).
    k : float
        3-class threshold in training standard deviations.
    features : sequence of str, optional
        Columns of ``Dataset.X`` for the classical models (default all).

    Returns
    -------
    WindowTask
        The kept rows, their chronological split, targets and classical features.

    Raises
    ------
    ValueError
        When too few rows are left, or the training labels hold a single class.
    """
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
    ds = lob.dataset
    labs = tuple(ds.label(h) for h in horizons)
    if not labs:
        raise ValueError("give at least one horizon")
    cols = list(features) if features is not None else list(ds.X.columns)
    ok = np.ones(len(ds), dtype=bool)
    for lab in labs:
        ok &= ds.usable(lab, cols)
        if target == "l1":
            ok &= np.isfinite(ds.bid_change[lab].to_numpy()) & np.isfinite(
                ds.ask_change[lab].to_numpy()
            )
    ends_by_h = np.column_stack([ds.target_end[lab].to_numpy() for lab in labs])
    try:
        rows, split = window_split(
            lob.valid, T, ok, ds.ts, ends_by_h.max(axis=1), holdout or ev.HoldoutConfig()
        )
    except ValueError as err:
        raise ValueError(f"{ds.name}: {err}") from None
    ts_all = ds.ts

    prim = labs[0]
    r_all = ds.returns[prim].to_numpy()
    full: dict[str, np.ndarray] = {}
    threshold = classes = None
    if target == "three_class":
        train_mask = np.zeros(len(ds), dtype=bool)
        train_mask[rows[split.train]] = True
        threshold = _targets.fit_threshold(r_all, train_mask, k)
        for lab in labs:
            lb = _targets.three_class_labels(ds.returns[lab].to_numpy(), threshold=threshold)
            full[lab] = lb.codes.astype(np.int64)
        classes = ("down", "flat", "up")
        y = full[prim][rows]
        if np.unique(y[split.train]).size < 2:
            raise ValueError(f"{ds.name}: the training labels hold a single class")
        task = "classification"
    elif target == "return":
        for lab in labs:
            full[lab] = ds.returns[lab].to_numpy().astype(np.float64)
        y = full[prim][rows]
        task = "regression"
    else:
        for lab in labs:
            full[lab] = np.column_stack(
                [ds.bid_change[lab].to_numpy(), ds.ask_change[lab].to_numpy(), ds.returns[lab]]
            ).astype(np.float64)
        y = full[prim][rows]
        task = "regression"
    return WindowTask(
        segment=ds.name,
        market=ds.market,
        symbol=ds.symbol,
        target=target,
        task=task,
        horizons=labs,
        horizon_rows=ds.horizon_rows(prim),
        T=int(T),
        lob=lob,
        rows=rows,
        split=split,
        y=y,
        targets=full,
        returns=r_all[rows],
        X=ds.X.loc[rows, cols],
        ts=ts_all[rows],
        target_end=ds.target_end[prim].to_numpy()[rows],
        threshold=threshold,
        classes=classes,
    )


def window_split(
    valid: np.ndarray,
    T: int,
    candidates: np.ndarray,
    ts: np.ndarray,
    target_end: np.ndarray,
    holdout: ev.HoldoutConfig,
    min_rows: int = 30,
) -> tuple[np.ndarray, ev.TrainValTest]:
    """Window ends and their purged chronological split, no window straddling two parts.

    Parameters
    ----------
    valid : array of bool (N,)
        Rows a window may read.
    T : int
        Window length (rows).
    candidates : array of bool (N,)
        Rows with a target (and whatever else a row needs).
    ts, target_end : arrays of int64 (N,)
        Row times and target ends (the purge's input).
    holdout : lobutils.evaluation.HoldoutConfig
        Fractions of the three parts, by time.
    min_rows : int
        Fewer candidate windows raise ``ValueError``.

    Returns
    -------
    rows : numpy.ndarray
        Kept window ends, sorted.
    split : lobutils.evaluation.TrainValTest
        Positions into ``rows``.

    Examples
    --------
    >>> rows, s = window_split(np.ones(100, bool), 5, np.ones(100, bool), np.arange(100),
    ...                        np.arange(100) + 2, ev.HoldoutConfig(by="rows"))
    >>> [int(v) for v in (rows[s.train].max(), rows[s.val].min(), rows[s.test].min())]
    [59, 66, 85]

    Rows 60-61 are purged (their targets reach the validation block, which starts at row 62),
    and rows 62-65 and 81-84 are dropped: their windows would reach into the block before.
    """
    cand = window_ends(valid, T, candidates=np.asarray(candidates, dtype=bool))
    if cand.size < min_rows:
        raise ValueError(f"only {cand.size} rows with a full window and a target")
    split0 = ev.train_val_test_split(ts[cand], holdout, target_end=target_end[cand])
    # windows may not straddle two parts: block ids by time, then keep the windows inside one
    b1 = ts[cand[split0.val[0]]]
    b2 = ts[cand[split0.test[0]]]
    blocks = np.searchsorted(np.array([b1, b2]), ts, side="right")
    inside = window_ends(valid, T, blocks=blocks, candidates=cand)
    keep = np.isin(cand, inside)
    parts = [cand[p[keep[p]]] for p in split0]
    rows = np.concatenate(parts)
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    pos = np.empty(rows.size, dtype=np.int64)
    pos[order] = np.arange(rows.size)
    n0, n1 = len(parts[0]), len(parts[1])
    split = ev.TrainValTest(np.sort(pos[:n0]), np.sort(pos[n0 : n0 + n1]), np.sort(pos[n0 + n1 :]))
    if min(len(x) for x in split) < 2:
        raise ValueError("a part of the split has fewer than 2 windows")
    return rows, split


# --------------------------------------------------------------------------------------
# baselines, classical models, scores
# --------------------------------------------------------------------------------------


def baselines(wt: WindowTask, y: np.ndarray | None = None, seed: int = 0) -> dict[str, np.ndarray]:
    """The naive forecasts of the test rows (chapter 6's): zero and last return, or majority,
    persistence and a stratified guess; all causal (persistence uses realised targets only).

    Parameters
    ----------
    wt : WindowTask
        The task; the baselines are fitted on its training and validation rows.
    y : numpy.ndarray, optional
        A 1-D target per kept row (default ``wt.y``; pass one column of an ``l1`` target).
    seed : int
        Seed of the stratified guess.

    Returns
    -------
    dict of str to numpy.ndarray
        Baseline name to its forecast of each test row.
    """
    yy = wt.y if y is None else y
    s = wt.split
    train_all = np.union1d(s.train, s.val)
    task = wt.task
    base = ev.walk_forward_baselines(
        yy,
        [ev.Fold(train_all, np.asarray(s.test))],
        task=task,
        ts=wt.ts,
        target_end=wt.target_end,
        seed=seed,
    )
    return {c: base[c].to_numpy() for c in base.columns if c not in ("row", "fold", "y_true")}


def fit_classical(
    wt: WindowTask, names: Sequence[str], seed: int = 0, y: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Chapter 6's zoo models on the task's rows: tuned on validation, refitted on train +
    validation, predicting the test rows (:func:`lobutils.models.zoo.tune` and ``fit_final``).

    Parameters
    ----------
    wt : WindowTask
        The task: its classical features ``X``, split and labels.
    names : sequence of str
        Zoo model names (:func:`lobutils.models.zoo.make_models`).
    seed : int
        Seed of the models.
    y : numpy.ndarray, optional
        A 1-D target per kept row (default ``wt.y``).

    Returns
    -------
    dict of str to numpy.ndarray
        Model name to its prediction of each test row.
    """
    from lobutils.models import zoo

    yy = wt.y if y is None else y
    out = {}
    for mc in zoo.make_models(list(names), seed=seed):
        metric = zoo.DEFAULT_TUNE_METRIC[wt.task]
        tr = zoo.tune(mc, wt.task, wt.X, yy, wt.split, metric=metric, labels=wt.labels)
        fit = zoo.fit_final(tr.best, wt.task, wt.X, yy, wt.split, proba=False)
        out[mc.name] = np.asarray(fit.y_pred)
    return out


def score(
    wt: WindowTask,
    predictions: Mapping[str, np.ndarray],
    *,
    y_true: np.ndarray | None = None,
    base: Mapping[str, np.ndarray] | None = None,
    target: str | None = None,
    horizon: str | None = None,
    n_boot: int = 500,
    min_block_rows: int = 10,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Every model next to its best baseline, with block-bootstrap CIs, for one task.

    Blocks are ``max(horizon rows, min_block_rows)`` rows, at most the test block.

    Parameters
    ----------
    wt : WindowTask
        The task whose test rows are scored.
    predictions : mapping of str to numpy.ndarray
        Model name to its prediction of each test row.
    y_true : numpy.ndarray, optional
        The test targets (default ``wt.y_test()``).
    base : mapping of str to numpy.ndarray, optional
        Baseline forecasts (default :func:`baselines` of ``wt``).
    target, horizon : str, optional
        Labels of the table (default the task's target and primary horizon).
    n_boot : int
        Bootstrap resamples.
    min_block_rows : int
        Floor of the bootstrap block length (rows).
    confidence : float
        Level of the intervals.
    seed : int
        Seed of the bootstrap and the baselines.

    Returns
    -------
    pandas.DataFrame
        :func:`lobutils.evaluation.results_table` with ``segment``, ``market`` and ``symbol``
        in front and ``n_test_independent`` at the end.
    """
    yt = wt.y_test() if y_true is None else np.asarray(y_true)
    bs = baselines(wt, seed=seed) if base is None else dict(base)
    n = len(yt)
    bl = int(min(n, max(wt.horizon_rows, min_block_rows)))
    cfg = ev.BootstrapConfig(block_length=bl, n_boot=n_boot, confidence=confidence, seed=seed)
    tab = ev.results_table(
        yt,
        dict(predictions),
        bs,
        task=wt.task,
        config=cfg,
        target=target or wt.target,
        horizon=horizon or wt.horizons[0],
        labels=wt.labels,
        dm_horizon=wt.horizon_rows,
    )
    tab.insert(0, "segment", wt.segment)
    tab.insert(1, "market", wt.market)
    tab.insert(2, "symbol", wt.symbol)
    tab["n_test_independent"] = n / wt.horizon_rows
    return tab


def ci_pivot(
    table: pd.DataFrame,
    metric: str,
    *,
    index: str | Sequence[str] = "segment",
    digits: int = 3,
    by_model: bool = True,
) -> pd.DataFrame:
    """A narrow view of a results table: one row per ``index``, one column per model.

    Each cell reads ``value [ci_low, ci_high]``, with a trailing ``*`` where the model beats its
    best baseline beyond the interval; a last column names that baseline and its value. With
    ``by_model=False`` the models go into the rows instead (add ``"model"`` to ``index``), and
    the one value column is named after the metric: narrower when few models share a row. The
    full table belongs in the report directory; this is what the book shows.

    Parameters
    ----------
    table : DataFrame
        :func:`score` rows (``role``, ``model``, ``metric``, ``value``, ``ci_low``,
        ``ci_high``, ``baseline``, ``baseline_value``, ``beats_baseline``).
    metric : str
        The metric shown.
    index : str or list of str
        The row keys (e.g. ``["segment", "target"]``).
    digits : int
        Decimals of the formatted values.
    by_model : bool
        One column per model (True), or one value column (False).

    Returns
    -------
    pandas.DataFrame
        Strings, indexed by ``index``.

    Examples
    --------
    A synthetic table of one market:

    >>> t = pd.DataFrame({"segment": "a", "role": "model", "model": ["m1", "m2"],
    ...     "metric": "mse", "value": [1.0, 2.0], "ci_low": [0.5, 1.5], "ci_high": [1.5, 2.5],
    ...     "baseline": "zero", "baseline_value": 3.0, "beats_baseline": [True, False]})
    >>> ci_pivot(t, "mse", digits=1).to_dict("records")
    [{'m1': '1.0 [0.5, 1.5] *', 'm2': '2.0 [1.5, 2.5]', 'best baseline': 'zero 3.0'}]
    >>> ci_pivot(t, "mse", index=["segment", "model"], digits=1, by_model=False)["mse"].tolist()
    ['1.0 [0.5, 1.5] *', '2.0 [1.5, 2.5]']
    """
    keys = [index] if isinstance(index, str) else list(index)
    rows = table[(table["metric"] == metric) & (table["role"] == "model")].copy()
    star = rows["beats_baseline"].astype("boolean").fillna(False).astype(bool)
    rows["cell"] = [
        f"{v:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]" + (" *" if b else "")
        for v, lo, hi, b in zip(rows["value"], rows["ci_low"], rows["ci_high"], star, strict=True)
    ]
    if by_model:
        wide = rows.pivot_table(
            index=keys, columns="model", values="cell", aggfunc="first", sort=False
        )
    else:
        wide = rows.set_index(keys)[["cell"]].rename(columns={"cell": metric})
    base = rows.groupby(keys, sort=False).first()
    wide["best baseline"] = [
        f"{b} {v:.{digits}f}" for b, v in zip(base["baseline"], base["baseline_value"], strict=True)
    ]
    wide.columns.name = None
    return wide


# --------------------------------------------------------------------------------------
# pooling segments
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Pooled:
    """Several segments' books in one array, with per-segment normalisers.

    Attributes
    ----------
    data : numpy.ndarray (sum N, F)
        The segments' books, stacked in order.
    offsets : dict
        Segment name -> its first row in ``data``.
    normalizers : list of Normalizer
        One per segment, in order.
    normalizer_index : numpy.ndarray (sum N,)
        Which normaliser each row uses (its segment's, fitted on that segment's training
        windows only).
    targets : dict
        Per horizon label, the stacked full-length targets.
    train_ends, val_ends : numpy.ndarray
        All segments' training and validation window ends, in pooled row numbers.
    """

    data: np.ndarray = field(repr=False)
    offsets: dict[str, int]
    normalizers: list[Normalizer] = field(repr=False)
    normalizer_index: np.ndarray = field(repr=False)
    targets: dict[str, np.ndarray] = field(repr=False)
    train_ends: np.ndarray = field(repr=False)
    val_ends: np.ndarray = field(repr=False)

    def test_ends(self, wt: WindowTask) -> np.ndarray:
        """A segment's test window ends in pooled row numbers.

        Parameters
        ----------
        wt : WindowTask
            One of the pooled tasks.

        Returns
        -------
        numpy.ndarray
            Its test window ends shifted by the segment's offset.
        """
        return wt.test_ends + self.offsets[wt.segment]


def pool(tasks: Sequence[WindowTask], **normalizer_kwargs: Any) -> Pooled:
    """Stack the segments of ``tasks`` (same T, target and horizons) for one pooled model.

    Windows never cross from one segment into the next: every end keeps its own segment's
    ``T - 1`` earlier rows, which lie inside the segment.

    Parameters
    ----------
    tasks : sequence of WindowTask
        The segments, with the same ``T`` and horizons.
    **normalizer_kwargs
        Options of each segment's :meth:`WindowTask.normalizer` (fitted on that segment's
        training windows only).

    Returns
    -------
    Pooled
        The stacked books, normalisers, targets and window ends.

    Raises
    ------
    ValueError
        For no tasks, or tasks with different horizons or ``T``.
    """
    if not tasks:
        raise ValueError("no tasks to pool")
    labs = tasks[0].horizons
    if any(t.horizons != labs or t.T != tasks[0].T for t in tasks):
        raise ValueError("pooled tasks need the same horizons and T")
    offsets, data, idx, norms, tr, va = {}, [], [], [], [], []
    targets: dict[str, list[np.ndarray]] = {lab: [] for lab in labs}
    off = 0
    for i, wt in enumerate(tasks):
        n = len(wt.lob)
        offsets[wt.segment] = off
        data.append(wt.lob.lob)
        idx.append(np.full(n, i, dtype=np.int64))
        norms.append(wt.normalizer(**normalizer_kwargs))
        tr.append(wt.train_ends + off)
        va.append(wt.val_ends + off)
        for lab in labs:
            targets[lab].append(wt.targets[lab])
        off += n
    return Pooled(
        np.concatenate(data),
        offsets,
        norms,
        np.concatenate(idx),
        {lab: np.concatenate(v) for lab, v in targets.items()},
        np.concatenate(tr),
        np.concatenate(va),
    )


# --------------------------------------------------------------------------------------
# training on windows
# --------------------------------------------------------------------------------------


def run_key(*parts: Any) -> str:
    """A short, stable hash of a run's settings (frozen configs, numbers, strings): the name
    of its checkpoint directory, so that a changed setting never resumes another run's model.

    Parameters
    ----------
    *parts
        The settings; their ``repr`` is hashed.

    Returns
    -------
    str
        The first 10 hex digits of the SHA-1 of ``repr(parts)``.

    Examples
    --------
    >>> run_key("deeplob", 100, (0.6, 0.2, 0.2)) == run_key("deeplob", 100, (0.6, 0.2, 0.2))
    True
    >>> len(run_key("x")), run_key("x") != run_key("y")
    (10, True)
    """
    import hashlib

    return hashlib.sha1(repr(parts).encode()).hexdigest()[:10]


def fit_windows(
    build: Any,
    data: np.ndarray,
    targets: Any,
    train_ends: np.ndarray,
    val_ends: np.ndarray,
    test_ends: np.ndarray,
    *,
    T: int,
    task: str,
    config: Any,
    normalizer: Normalizer | Sequence[Normalizer] | None = None,
    normalizer_index: np.ndarray | None = None,
    train_stride: int = 1,
    checkpoint_dir: Any = None,
) -> Any:
    """Train a window model and predict the test windows
    (:func:`lobutils.models.training.fit_predict` on :class:`WindowDataset` inputs).

    ``train_stride`` keeps every k-th training and validation window: neighbouring windows
    overlap in ``T - 1`` of their ``T`` rows, so thinning them costs little information and
    saves most of the time. Test windows are never thinned.

    Parameters
    ----------
    build : callable
        Returns the uncompiled model.
    data : array (N, F)
        The book rows the windows read.
    targets : array (N,) or (N, k), or dict of them
        Raw targets of every row (see :func:`lobutils.models.training.fit_predict`).
    train_ends, val_ends, test_ends : arrays of int
        Rows where the windows of each part end.
    T : int
        Window length (rows).
    task : {"classification", "regression"}
        What the model solves.
    config : lobutils.models.training.TrainConfig
        Training options.
    normalizer, normalizer_index
        See :class:`~lobutils.models.windows.WindowDataset`.
    train_stride : int
        Keep every k-th training and validation window (1 keeps all).
    checkpoint_dir : path-like, optional
        Where the run's checkpoints live (:func:`lobutils.models.training.train_model`).

    Returns
    -------
    lobutils.models.training.FitResult
        The training run and the test predictions.

    Raises
    ------
    ValueError
        When ``train_stride < 1``.
    """
    from functools import partial

    from lobutils.models.training import fit_predict
    from lobutils.models.windows import WindowDataset

    k = int(train_stride)
    if k < 1:
        raise ValueError(f"train_stride must be >= 1, got {train_stride}")
    make = partial(
        WindowDataset,
        data,
        T=T,
        normalizer=normalizer,
        normalizer_index=normalizer_index,
        batch_size=config.batch_size,
        seed=config.seed,
    )
    return fit_predict(
        build,
        make,
        targets,
        train_ends=np.asarray(train_ends)[::k],
        val_ends=np.asarray(val_ends)[::k],
        test_ends=np.asarray(test_ends),
        task=task,
        config=config,
        checkpoint_dir=checkpoint_dir,
    )


# --------------------------------------------------------------------------------------
# signals for the backtest
# --------------------------------------------------------------------------------------

SIGNAL_COLUMNS = ("segment", "model", "split", "ts", "horizon_s", "p_down", "p_flat", "p_up")
"""The columns of :func:`signals_table` (chapter 7's ``signals.parquet``)."""


def signals_table(
    segment: str,
    model: str,
    ts: Any,
    proba: Any,
    horizon_s: float,
    split: str = "test",
) -> pd.DataFrame:
    """A down / flat / up classifier's probabilities as a tidy table of trading signals.

    Parameters
    ----------
    segment, model : str
        Labels of the rows.
    ts : array of int64 (n,)
        The decision time of each window: the timestamp of its last row (``WindowTask.ts``),
        so that the signal uses only data known at ``ts``.
    proba : array (n, 3)
        Class probabilities in the order down, flat, up (``FitResult.proba``).
    horizon_s : float
        The forecast horizon (s).
    split : str
        Which block the windows belong to.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SIGNAL_COLUMNS`, ``ts`` as int64 ns, probabilities as float64.

    Examples
    --------
    Two synthetic windows:

    >>> t = signals_table("spot_ethusdt", "deeplob", [10**9, 2 * 10**9],
    ...                   [[0.2, 0.5, 0.3], [0.6, 0.3, 0.1]], horizon_s=10)
    >>> t[["ts", "p_down", "p_up"]].to_numpy().tolist()
    [[1000000000.0, 0.2, 0.3], [2000000000.0, 0.6, 0.1]]
    >>> str(t["ts"].dtype), list(t.columns) == list(SIGNAL_COLUMNS)
    ('int64', True)
    """
    t = np.asarray(ts).astype(np.int64)
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2 or p.shape != (t.size, 3):
        raise ValueError(f"proba must have shape ({t.size}, 3) (down, flat, up), got {p.shape}")
    return pd.DataFrame(
        {
            "segment": segment,
            "model": model,
            "split": split,
            "ts": t,
            "horizon_s": float(horizon_s),
            "p_down": p[:, 0],
            "p_flat": p[:, 1],
            "p_up": p[:, 2],
        },
        columns=list(SIGNAL_COLUMNS),
    )
