"""Chapter 7's training runs: shared settings, a log of every run, and the runs themselves.

A window study trains many Keras models on the same markets: each market's own classifiers,
one model pooled over markets, and variants (a TCN, a regression on the raw and on the
EMA-smoothed return, a multi-task model, a forecast of the best quotes). Each run is the same
sequence: build the task's normaliser, derive a checkpoint name from every setting, train on
the (thinned) training windows with early stopping on the validation windows, predict the test
windows, record the learning curve, the speed and the predictions, and score the test windows
next to the naive baselines (:mod:`lobutils.models.study`). This module writes that sequence
once.

:class:`RunSettings`
    The settings every run of a study shares (grid, window, horizons, normalisation, thinning,
    split, bootstrap), frozen.
:class:`RunLog`
    What the runs leave behind: learning curves, speeds, fitted results, trading signals, and
    the runs skipped with their reason.
:func:`fit_run`
    One run on one task.
:func:`train_markets`, :func:`score_markets`, :func:`train_pooled`, :func:`run_variants`
    The chapter's sections: per-market classifiers, their scores next to the classical models,
    one pooled model, and the variants of :data:`VARIANTS` (one tidy results frame).
:func:`learning_summary`, :func:`data_budget`
    The numbers the chapter's prose quotes.

Examples
--------
>>> s = RunSettings(T=20, horizon_s=10, fractions=[0.6, 0.2, 0.2])
>>> s.h_lab, s.h_long, s.n_features, s.fractions
('10s', '60s', 40, (0.6, 0.2, 0.2))
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.models import deeplob as dl
from lobutils.models import study
from lobutils.models.training import FitResult, TrainConfig

__all__ = [
    "VARIANTS",
    "RunLog",
    "RunSettings",
    "builders",
    "data_budget",
    "ema_comparison",
    "fit_run",
    "learning_summary",
    "load_lobs",
    "lob_overview",
    "make_tasks",
    "run_variants",
    "score_markets",
    "single_class_runs",
    "split_view",
    "train_markets",
    "train_pooled",
]


@dataclass(frozen=True)
class RunSettings:
    """The settings all runs of a window study share (the chapter's parameters).

    Parameters
    ----------
    grid : str
        Clock grid of the rows (``"100ms"``).
    levels : int
        Book levels per side (``4 x levels`` input columns).
    T : int
        Rows per input window.
    horizon_s, long_horizon_s : int
        The forecast horizon and the multi-task model's second one (s).
    k : float
        Down / flat / up threshold in training standard deviations.
    prices, sizes : str
        Normalisation of prices and sizes (:func:`lobutils.models.windows.fit_normalizer`).
    train_stride : int
        Keep every k-th training and validation window.
    fractions : tuple of float
        Train / validation / test shares of each segment's time span.
    ema_alpha : float
        Smoothing weight of the EMA training target.
    classical : tuple of str
        Chapter 6 models fitted on the same rows.
    n_boot, min_block_rows, seed : int
        The bootstrap of every interval, and the seed.

    Returns
    -------
    RunSettings
    """

    grid: str = "100ms"
    levels: int = 10
    T: int = 100
    horizon_s: int = 10
    long_horizon_s: int = 60
    k: float = 1.0
    prices: str = "relative"
    sizes: str = "log"
    train_stride: int = 5
    fractions: tuple[float, ...] = (0.6, 0.2, 0.2)
    ema_alpha: float = 0.2
    classical: tuple[str, ...] = ("linear", "xgboost")
    n_boot: int = 500
    min_block_rows: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "fractions", tuple(float(f) for f in self.fractions))
        object.__setattr__(self, "classical", tuple(self.classical))

    @property
    def h_lab(self) -> str:
        """The horizon's label (``"10s"``)."""
        return f"{self.horizon_s}s"

    @property
    def h_long(self) -> str:
        """The long horizon's label (``"60s"``)."""
        return f"{self.long_horizon_s}s"

    @property
    def n_features(self) -> int:
        """Input columns per row."""
        return 4 * self.levels

    @property
    def holdout(self) -> ev.HoldoutConfig:
        """The chronological split."""
        return ev.HoldoutConfig(fractions=self.fractions)

    def score(self, wt: study.WindowTask, predictions: Mapping[str, np.ndarray], **kw: Any):
        """:func:`lobutils.models.study.score` with these bootstrap settings.

        Parameters
        ----------
        wt : lobutils.models.study.WindowTask
            The task whose test rows are scored.
        predictions : mapping of str to numpy.ndarray
            Model name to its prediction of each test row.
        **kw
            Further options of :func:`lobutils.models.study.score` (``y_true``, ``base``,
            ``target``, ``horizon``).

        Returns
        -------
        pandas.DataFrame
            Every model next to its best baseline, with block-bootstrap intervals.
        """
        return study.score(
            wt,
            predictions,
            n_boot=self.n_boot,
            min_block_rows=self.min_block_rows,
            seed=self.seed,
            **kw,
        )


@dataclass
class RunLog:
    """What a study's runs leave behind (appended to by :func:`fit_run`).

    Attributes
    ----------
    histories : list of DataFrame
        Learning curves, with ``model``, ``segment`` and ``scope`` columns.
    speeds : list of dict
        Per run: epochs, seconds, training samples per second, whether it stopped early.
    fits : dict
        ``(model, segment) -> FitResult``.
    signals : list of DataFrame
        Test-block probabilities of each market's own classifiers
        (:func:`lobutils.models.study.signals_table`).
    skipped : dict
        Runs that could not be made, with the reason.
    """

    histories: list[pd.DataFrame] = field(default_factory=list)
    speeds: list[dict[str, Any]] = field(default_factory=list)
    fits: dict[tuple[str, str], FitResult] = field(default_factory=dict)
    signals: list[pd.DataFrame] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, segment: str, fit: FitResult, scope: str) -> None:
        """Keep a run's learning curve, speed and fitted result.

        Parameters
        ----------
        name, segment, scope : str
            The model, its market (or ``"pooled"``) and the run's scope (``"own"``,
            ``"pooled"``, ``"variant"``).
        fit : FitResult
            The run's result.

        Returns
        -------
        None
        """
        h = fit.train.history.assign(model=name, segment=segment, scope=scope)
        self.histories.append(h)
        tr = fit.train
        self.speeds.append(
            {"model": name, "segment": segment, "scope": scope, "epochs": len(h),
             "epochs_run": tr.epochs_run, "seconds": tr.seconds,
             "samples_per_s": tr.samples_per_s, "stopped_early": tr.stopped_early}
        )  # fmt: skip
        self.fits[(name, segment)] = fit

    def history(self) -> pd.DataFrame:
        """All learning curves in one frame.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.concat(self.histories, ignore_index=True) if self.histories else pd.DataFrame()

    def throughput(self) -> pd.DataFrame:
        """One row per run: epochs, seconds, samples per second, early stop.

        Returns
        -------
        pandas.DataFrame
        """
        return pd.DataFrame(self.speeds)

    def signals_table(self) -> pd.DataFrame:
        """The recorded trading signals (columns :data:`lobutils.models.study.SIGNAL_COLUMNS`).

        Returns
        -------
        pandas.DataFrame
        """
        if not self.signals:
            return pd.DataFrame(columns=list(study.SIGNAL_COLUMNS))
        return pd.concat(self.signals, ignore_index=True)


# --------------------------------------------------------------------------------------
# data and tasks
# --------------------------------------------------------------------------------------


def load_lobs(segs: Sequence[Any], s: RunSettings) -> tuple[list[Any], dict[str, str]]:
    """Each segment's book on the grid, with the targets at both horizons.

    Parameters
    ----------
    segs : sequence of lobutils.data.catalog.Segment
        The recorded segments.
    s : RunSettings
        The study's settings.

    Returns
    -------
    lobs : list of lobutils.models.windows.LOBData
        The segments that loaded, in order.
    skipped : dict
        Segment name -> why it could not be loaded.
    """
    from lobutils.models.windows import load_lob

    lobs, skipped = [], {}
    for seg in segs:
        try:
            hz = (s.horizon_s, s.long_horizon_s)
            lobs.append(load_lob(seg, grid=s.grid, levels=s.levels, horizons=hz))
        except ValueError as err:
            skipped[seg.name] = str(err)
    return lobs, skipped


def lob_overview(lobs: Sequence[Any]) -> pd.DataFrame:
    """One row per market: rows, minutes, share of rows with a complete book, median spread.

    Parameters
    ----------
    lobs : sequence of lobutils.models.windows.LOBData
        Each segment's book windows (:func:`load_lobs`).

    Returns
    -------
    pandas.DataFrame
        Indexed by segment; ``rows`` as int.
    """
    rows = {}
    for d in lobs:
        summ = d.dataset.summary()
        rows[d.name] = {
            "rows": len(d),
            "minutes": round(float(summ["minutes"]), 1),
            "complete book": round(float(d.valid.mean()), 3),
            "median spread (bps)": round(float(summ["median_spread_bps"]), 2),
        }
    out = pd.DataFrame(rows).T
    out["rows"] = out["rows"].astype(int)
    return out.rename_axis("segment")


def make_tasks(lobs: Sequence[Any], s: RunSettings) -> tuple[dict[str, Any], dict[str, str]]:
    """The down / flat / up window task of each market at the horizon.

    Parameters
    ----------
    lobs : sequence of lobutils.models.windows.LOBData
        Each segment's book windows (:func:`load_lobs`).
    s : RunSettings
        The study's settings.

    Returns
    -------
    tasks : dict
        Segment name -> :class:`lobutils.models.study.WindowTask`.
    skipped : dict
        Segment name -> why no task could be made.
    """
    tasks, skipped = {}, {}
    for d in lobs:
        try:
            tasks[d.name] = study.make_window_task(
                d, (s.horizon_s,), "three_class", T=s.T, holdout=s.holdout, k=s.k
            )
        except ValueError as err:
            skipped[d.name] = str(err)
    return tasks, skipped


def split_view(tasks: Mapping[str, Any]) -> pd.DataFrame:
    """Rows per block and independent test targets of each market, as integers.

    Parameters
    ----------
    tasks : dict of WindowTask
        Segment name to its :class:`lobutils.models.study.WindowTask`.

    Returns
    -------
    pandas.DataFrame
        Indexed by segment: ``train``, ``val``, ``test`` (int), ``independent test targets``
        (test rows / horizon rows, one decimal), ``threshold (bps)``.
    """
    rows = []
    for wt in tasks.values():
        d = wt.summary()
        rows.append(
            {"segment": d["segment"], "train": d["n_train"], "val": d["n_val"],
             "test": d["n_test"], "independent test targets": round(d["n_test_independent"], 1),
             "threshold (bps)": round(d.get("threshold_bps", math.nan), 2)}
        )  # fmt: skip
    return pd.DataFrame(rows).set_index("segment")


# --------------------------------------------------------------------------------------
# one run
# --------------------------------------------------------------------------------------


def fit_run(
    name: str,
    build: Callable[[], Any],
    wt: study.WindowTask,
    s: RunSettings,
    config: TrainConfig,
    log: RunLog,
    checkpoint_root: Path,
    *,
    scope: str = "own",
    targets: Any = None,
) -> FitResult:
    """Train one model on one task's windows, predict its test windows, and log the run.

    The checkpoint directory is ``checkpoint_root / segment / f"{name}-{key}"``, where the key
    hashes every setting (:func:`lobutils.models.study.run_key`): a finished run with the same
    settings is loaded, not trained again. A market's own classifier also leaves its test
    probabilities in ``log.signals`` (decision time: the window's last row).

    Parameters
    ----------
    name : str
        The model's name in the results.
    build : callable
        Returns the uncompiled model.
    wt : WindowTask
        The market's task.
    s : RunSettings
        The study's settings.
    config : TrainConfig
        Training options.
    log : RunLog
        What the runs leave behind.
    checkpoint_root : path
        Folder of the runs' checkpoints (one subfolder per segment, then per run).
    scope : str
        ``"own"`` or ``"variant"``.
    targets : array or dict, optional
        Raw targets of every row; default the task's primary horizon.

    Returns
    -------
    lobutils.models.training.FitResult
        The training run and the test predictions (also kept in ``log``).
    """
    y = wt.targets[wt.horizons[0]] if targets is None else targets
    key = study.run_key(name, wt.segment, wt.target, wt.horizons, s, config)
    fit = study.fit_windows(
        build, wt.lob.lob, y, wt.train_ends, wt.val_ends, wt.test_ends, T=s.T, task=wt.task,
        config=config, normalizer=wt.normalizer(prices=s.prices, sizes=s.sizes),
        train_stride=s.train_stride,
        checkpoint_dir=Path(checkpoint_root) / wt.segment / f"{name}-{key}",
    )  # fmt: skip
    log.record(name, wt.segment, fit, scope)
    if scope == "own" and wt.task == "classification":
        ts = wt.ts[wt.split.test]
        log.signals.append(study.signals_table(wt.segment, name, ts, fit.proba, s.horizon_s))
    return fit


# --------------------------------------------------------------------------------------
# the chapter's sections
# --------------------------------------------------------------------------------------


def builders(s: RunSettings) -> dict[str, Callable[[], Any]]:
    """The per-market classifiers by name, sized for the settings.

    Parameters
    ----------
    s : RunSettings
        The study's settings.

    Returns
    -------
    dict
        ``"deeplob"``, ``"deeplob_tcn"``, ``"cnn"`` -> a function building the model.

    Examples
    --------
    >>> sorted(builders(RunSettings(T=20)))
    ['cnn', 'deeplob', 'deeplob_tcn']
    """
    kw = {"T": s.T, "n_features": s.n_features}
    return {
        "deeplob": lambda: dl.build_deeplob(**kw),
        "deeplob_tcn": lambda: dl.build_deeplob_tcn(**kw),
        "cnn": lambda: dl.build_cnn_classifier(**kw),
    }


def train_markets(
    tasks: Mapping[str, study.WindowTask],
    models: Sequence[str],
    s: RunSettings,
    config: TrainConfig,
    log: RunLog,
    checkpoint_root: Path,
) -> pd.DataFrame:
    """Each market's own classifiers (:func:`builders`), trained and logged.

    Parameters
    ----------
    tasks : dict of WindowTask
        Segment name to its :class:`lobutils.models.study.WindowTask`.
    models : sequence of str
        Keys of :func:`builders`.
    s, config, log, checkpoint_root
        As :func:`fit_run`.

    Returns
    -------
    pandas.DataFrame
        The runs' speeds (:meth:`RunLog.throughput`).
    """
    build = builders(s)
    for wt in tasks.values():
        for name in models:
            fit_run(name, build[name], wt, s, config, log, checkpoint_root)
    return log.throughput()


def score_markets(
    tasks: Mapping[str, study.WindowTask], models: Sequence[str], s: RunSettings, log: RunLog
) -> pd.DataFrame:
    """Each market's deep classifiers and chapter 6's models, next to the naive baselines.

    Parameters
    ----------
    tasks : dict of WindowTask
        Segment name to its :class:`lobutils.models.study.WindowTask`.
    models : sequence of str
        The deep models already in ``log.fits``.
    s : RunSettings
        Its ``classical`` models are fitted here on the same rows.
    log : RunLog
        What the runs leave behind.

    Returns
    -------
    pandas.DataFrame
        :func:`lobutils.models.study.score` of every market, stacked.
    """
    parts = []
    for wt in tasks.values():
        preds = {name: log.fits[(name, wt.segment)].y_pred for name in models}
        preds.update(study.fit_classical(wt, list(s.classical), seed=s.seed))
        parts.append(s.score(wt, preds))
    return pd.concat(parts, ignore_index=True)


def train_pooled(
    tasks: Mapping[str, study.WindowTask],
    s: RunSettings,
    config: TrainConfig,
    log: RunLog,
    checkpoint_root: Path,
) -> tuple[pd.DataFrame, int]:
    """One DeepLOB trained on every market's training windows, scored on each market.

    Each market keeps its own normaliser (fitted on its training windows). The pooled model is
    scored on each market's test block next to that market's own DeepLOB (when ``log`` holds
    it), with the same bootstrap.

    Parameters
    ----------
    tasks : dict of WindowTask
        At least two markets.
    s, config, log, checkpoint_root
        As :func:`fit_run`.

    Returns
    -------
    table : pandas.DataFrame
        Score rows of ``deeplob_pooled`` and (when trained) ``deeplob``, per market.
    n_train : int
        Training windows of the pooled model before thinning.
    """
    P = study.pool(list(tasks.values()), prices=s.prices, sizes=s.sizes)
    key = study.run_key("pooled", sorted(tasks), s, config)
    test = np.concatenate([P.test_ends(wt) for wt in tasks.values()])
    fit = study.fit_windows(
        builders(s)["deeplob"], P.data, P.targets[s.h_lab], P.train_ends, P.val_ends, test,
        T=s.T, task="classification", config=config, normalizer=P.normalizers,
        normalizer_index=P.normalizer_index, train_stride=s.train_stride,
        checkpoint_dir=Path(checkpoint_root) / "pooled" / f"deeplob-{key}",
    )  # fmt: skip
    log.record("deeplob", "pooled", fit, "pooled")
    parts, start = [], 0
    for wt in tasks.values():
        n = len(wt.split.test)
        preds = {"deeplob_pooled": fit.y_pred[start : start + n]}
        start += n
        if ("deeplob", wt.segment) in log.fits:
            preds["deeplob"] = log.fits[("deeplob", wt.segment)].y_pred
        tab = s.score(wt, preds)
        parts.append(tab[tab["role"] == "model"])
    return pd.concat(parts, ignore_index=True), int(len(P.train_ends))


# --------------------------------------------------------------------------------------
# variants
# --------------------------------------------------------------------------------------


def _variant_tcn(wt, s, cfg, log, root):
    fit = fit_run("deeplob_tcn", builders(s)["deeplob_tcn"], wt, s, cfg, log, root, scope="variant")
    return [s.score(wt, {"deeplob_tcn": fit.y_pred}).query("model == 'deeplob_tcn'")]


def _variant_ema(wt, s, cfg, log, root):
    """DeepLOB regressors on the raw return and on its EMA, both scored on the raw return."""
    wr = study.make_window_task(wt.lob, (s.horizon_s,), "return", T=s.T, holdout=s.holdout)
    preds = {}
    for label, alpha in (("deeplob_raw", None), ("deeplob_ema", s.ema_alpha)):
        c = dataclasses.replace(cfg, ema_alpha=alpha)
        build = lambda: dl.build_deeplob(T=s.T, n_features=s.n_features, task="regression")  # noqa: E731
        fit = fit_run(label, build, wr, s, c, log, root, scope="variant")
        if not np.array_equal(fit.y_true, wr.y_test()):
            raise AssertionError(f"{label} must be scored on the raw return")
        preds[label] = fit.y_pred
    preds.update(study.fit_classical(wr, list(s.classical), seed=s.seed))
    return [s.score(wr, preds)]


def _variant_multitask(wt, s, cfg, log, root):
    hz = (s.horizon_s, s.long_horizon_s)
    wm = study.make_window_task(wt.lob, hz, "return", T=s.T, holdout=s.holdout)
    labs = (s.h_lab, s.h_long)
    build = lambda: dl.build_multitask(  # noqa: E731
        T=s.T, n_features=s.n_features, task="regression", horizons=labs
    )
    y = {lab: wm.targets[lab] for lab in labs}
    fit = fit_run("multitask", build, wm, s, cfg, log, root, scope="variant", targets=y)
    return [
        s.score(wm.for_horizon(lab), {"multitask": fit.y_pred[lab]}, target="return")
        for lab in labs
    ]


def _variant_l1(wt, s, cfg, log, root):
    """An LSTM of the best bid, ask and mid changes, per quote against persistence."""
    wl = study.make_window_task(wt.lob, (s.horizon_s,), "l1", T=s.T, holdout=s.holdout)
    build = lambda: dl.build_l1_lstm(T=s.T, n_features=s.n_features, n_outputs=3)  # noqa: E731
    fit = fit_run("l1_lstm", build, wl, s, cfg, log, root, scope="variant")
    out = []
    for j, quote in enumerate(("bid", "ask", "mid")):
        yj = wl.y[:, j]
        base = study.baselines(wl, y=yj, seed=s.seed)
        base = {"persistence": base["zero"], "last_change": base["last_return"]}
        preds = {"l1_lstm": fit.y_pred[:, j], **study.fit_classical(wl, ["xgboost"], s.seed, y=yj)}
        out.append(s.score(wl, preds, y_true=yj[wl.split.test], base=base, target=quote))
    return out


VARIANTS: dict[str, Callable[..., list[pd.DataFrame]]] = {
    "deeplob_tcn": _variant_tcn,
    "ema": _variant_ema,
    "multitask": _variant_multitask,
    "l1_lstm": _variant_l1,
}
"""The variants of chapter 7 by name: ``deeplob_tcn`` (a classifier, like the market's own),
``ema`` (DeepLOB regressors on the raw and the EMA-smoothed return, scored on the raw return,
with the classical models), ``multitask`` (a 10 s and a 60 s head) and ``l1_lstm`` (the changes
of the best bid, ask and mid against persistence, with XGBoost)."""


def run_variants(
    tasks: Mapping[str, study.WindowTask],
    segments: Sequence[str],
    variants: Sequence[str],
    s: RunSettings,
    config: TrainConfig,
    log: RunLog,
    checkpoint_root: Path,
) -> pd.DataFrame:
    """Run each variant of :data:`VARIANTS` on each of ``segments``; one tidy results frame.

    Regressions train with ``config`` without class weights. A variant whose task cannot be
    made (too few rows at the long horizon) is skipped and noted in ``log.skipped``.

    Parameters
    ----------
    tasks : dict of WindowTask
        The markets' classification tasks (their books are reused).
    segments : sequence of str
        Markets to run on (those not in ``tasks`` are ignored).
    variants : sequence of str
        Keys of :data:`VARIANTS`.
    s, config, log, checkpoint_root
        As :func:`fit_run`.

    Returns
    -------
    pandas.DataFrame
        :func:`lobutils.models.study.score` rows of every variant, stacked (empty when none ran).
    """
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    reg = dataclasses.replace(config, class_weight="none")
    parts: list[pd.DataFrame] = []
    for seg in [g for g in segments if g in tasks]:
        for v in variants:
            cfg = config if v == "deeplob_tcn" else reg
            try:
                parts += VARIANTS[v](tasks[seg], s, cfg, log, Path(checkpoint_root))
            except ValueError as err:
                log.skipped[f"{v} on {seg}"] = str(err)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


# --------------------------------------------------------------------------------------
# numbers for the prose
# --------------------------------------------------------------------------------------


def learning_summary(history: pd.DataFrame, n_classes: int = 3) -> dict[str, Any]:
    """How the runs' learning curves ended, against a classifier that knows nothing.

    Parameters
    ----------
    history : DataFrame
        Learning curves of one scope (``model``, ``segment``, ``epoch``, ``loss``,
        ``val_loss``).
    n_classes : int
        A classifier that learned nothing scores ``ln(n_classes)`` on balanced classes.

    Returns
    -------
    dict
        ``chance``, ``runs``, ``best_min``, ``best_max`` (best validation losses),
        ``improved`` (runs whose best is more than 0.01 below chance), ``overfit`` (runs whose
        last training loss is below their last validation loss).

    Examples
    --------
    Two synthetic runs of two epochs:

    >>> h = pd.DataFrame({"model": "m", "segment": ["a", "a", "b", "b"], "epoch": [1, 2, 1, 2],
    ...                   "loss": [1.2, 0.9, 1.1, 1.2], "val_loss": [1.1, 1.0, 1.09, 1.1]})
    >>> r = learning_summary(h)
    >>> r["runs"], r["improved"], r["overfit"], round(r["best_min"], 2)
    (2, 1, 1, 1.0)
    """
    keys = ["model", "segment"]
    last = history.sort_values("epoch").groupby(keys).tail(1)
    best = history.loc[history.groupby(keys)["val_loss"].idxmin()]
    chance = float(np.log(n_classes))
    return {
        "chance": chance,
        "runs": len(best),
        "best_min": float(best["val_loss"].min()),
        "best_max": float(best["val_loss"].max()),
        "improved": int((best["val_loss"] < chance - 0.01).sum()),
        "overfit": int((last["loss"] < last["val_loss"]).sum()),
    }


def single_class_runs(log: RunLog, models: Sequence[str], segments: Sequence[str]) -> int:
    """How many of the (model, market) classifiers predict one class on the whole test block.

    Parameters
    ----------
    log : RunLog
        What the runs leave behind.
    models, segments : sequence of str
        The classifiers and markets to check.

    Returns
    -------
    int
        The number of such runs.
    """
    return sum(int(np.unique(log.fits[(m, g)].y_pred).size == 1) for m in models for g in segments)


def data_budget(
    tasks: Mapping[str, study.WindowTask], n_params: int, train_stride: int
) -> dict[str, float]:
    """The data a market's training block holds, against the parameters of a model.

    Parameters
    ----------
    tasks : dict of WindowTask
        Segment name to its :class:`lobutils.models.study.WindowTask`.
    n_params : int
        Parameters of the model (its ``count_params()``).
    train_stride : int
        Every k-th training window is kept.

    Returns
    -------
    dict
        Medians over markets: ``train_windows``, ``train_windows_thinned``,
        ``independent_targets`` (training windows / horizon rows); and
        ``params_per_window`` (per thinned window), ``params_per_label``.
    """
    n = [len(wt.split.train) for wt in tasks.values()]
    thinned = float(np.median([-(-k // train_stride) for k in n]))
    indep = float(np.median([len(wt.split.train) / wt.horizon_rows for wt in tasks.values()]))
    return {
        "train_windows": float(np.median(n)),
        "train_windows_thinned": thinned,
        "independent_targets": indep,
        "params_per_window": n_params / thinned,
        "params_per_label": n_params / max(indep, 1.0),
    }


def ema_comparison(
    table: pd.DataFrame, log: RunLog, segment: str, horizon: str
) -> dict[str, Any] | None:
    """The raw-trained and the EMA-trained DeepLOB regressors side by side, on the raw return.

    Parameters
    ----------
    table : DataFrame
        Score rows holding ``deeplob_raw`` and ``deeplob_ema`` (target ``return``).
    log : RunLog
        Holds their fits.
    segment, horizon : str
        The market and the horizon label.

    Returns
    -------
    dict or None
        ``r2_raw``, ``r2_ema`` (``"value [lo, hi]"``), ``corr_raw``, ``corr_ema`` (Pearson
        with the raw return), ``sd_y`` (of the raw test return), ``sd_raw``, ``sd_ema`` (of
        the forecasts), ``beats`` (either beats its best baseline on R² beyond the interval);
        None when the two did not run.
    """
    from lobutils.report import fmt_ci

    if not len(table):
        return None
    pick = (table["segment"] == segment) & (table["target"] == "return")
    pick &= (table["horizon"] == horizon) & table["model"].isin(["deeplob_raw", "deeplob_ema"])
    r2 = table[pick & (table["metric"] == "r2_oos")].set_index("model")
    if len(r2) < 2:
        return None
    corr = table[pick & (table["metric"] == "pearson")].set_index("model")["value"]
    out: dict[str, Any] = {"sd_y": float(np.std(log.fits[("deeplob_raw", segment)].y_true))}
    for m in ("raw", "ema"):
        r = r2.loc[f"deeplob_{m}"]
        out[f"r2_{m}"] = fmt_ci(r["value"], r["ci_low"], r["ci_high"])
        out[f"corr_{m}"] = float(corr.get(f"deeplob_{m}", np.nan))
        out[f"sd_{m}"] = float(np.std(log.fits[(f"deeplob_{m}", segment)].y_pred))
    out["beats"] = bool(r2["beats_baseline"].fillna(False).astype(bool).any())
    return out
