"""Per-market against pooled training: one model for all markets, scored on each market.

A *per-market* (own) model is trained on one market's training block and scored on that
market's test block, as in chapter 6. A *pooled* model is trained on the rows of every
market and scored on each market's test block in turn. Pooling gives more rows, and can
carry what one market's book says about another's; it can also blur differences between
markets.

Two rules keep the pooled model honest:

1. **Time.** For the test block of market S, which starts at ``t_test``, the pooled rows are
   those of every market whose target is realised before ``t_test``; rows realised before
   S's validation block starts (``t_val``) are the training block, and rows that start at or
   after ``t_val`` and are realised before ``t_test`` are the validation block. So no
   pooled row saw the future of S's test block, even when the markets were recorded at the
   same hours (a market's later rows are dropped, not used).
2. **Scale.** Features such as OFI are in each market's own units (coins or contracts), so
   each market's features are standardised with the mean and standard deviation of its own
   training rows before they are pooled; the test rows of S use S's.

Both models go through the same steps as chapter 6 (:func:`lobutils.models.zoo.tune` on
the validation block, then :func:`~lobutils.models.zoo.fit_final` on train + validation),
and are scored on the same test rows, so their difference gets a paired block-bootstrap
interval (:func:`lobutils.evaluation.paired_bootstrap_test`).

Examples
--------
>>> from lobutils.data.catalog import segment
>>> from lobutils.features.dataset import build_dataset
>>> dss = [build_dataset(segment(n), levels=10, horizons=(1,)) for n in
...        ("usdm_btcusdt", "usdm_ethusdt")]
>>> res = compare_pooled(dss, 1, ["linear"], n_boot=50)
>>> sorted(res.scores["training"].unique()), res.diffs["segment"].tolist()
(['own', 'pooled'], ['usdm_btcusdt', 'usdm_ethusdt'])
>>> bool((res.diffs["n_train_pooled"] > res.diffs["n_train_own"]).all())
True
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lobutils import evaluation as ev
from lobutils.features.dataset import Dataset
from lobutils.models import zoo

__all__ = ["PooledComparison", "compare_pooled", "pooled_split"]


@dataclass(frozen=True)
class PooledComparison:
    """The result of :func:`compare_pooled`.

    Attributes
    ----------
    scores : pandas.DataFrame
        One row per (segment, model, training): ``segment, market, symbol, horizon, model,
        training`` (``own`` or ``pooled``), ``metric``, ``value``, ``ci_low``, ``ci_high``,
        ``n_train``, ``n_test``.
    diffs : pandas.DataFrame
        One row per (segment, model): ``pooled - own`` on the metric (``diff``, ``ci_low``,
        ``ci_high``, ``p_value``), ``pooled_better`` (the whole interval above zero for a
        higher-is-better metric), and the training sizes.
    skipped : pandas.DataFrame
        Segments that could not be split, with the reason.
    """

    scores: pd.DataFrame
    diffs: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)


def _standardise(X: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = np.nanmean(X[rows], axis=0)
    sd = np.nanstd(X[rows], axis=0)
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    return mu, sd


def pooled_split(
    tasks: Sequence[zoo.TaskData], target: zoo.TaskData
) -> tuple[np.ndarray, np.ndarray, ev.TrainValTest, dict[str, int]]:
    """Pooled rows for the test block of ``target``: features, targets and a split.

    Parameters
    ----------
    tasks : sequence of TaskData
        Every market's task (same target and horizon), ``target`` among them.
    target : TaskData
        The market whose test block is scored.

    Returns
    -------
    X : numpy.ndarray (n, p)
        Standardised features: the pooled training rows (by time), the pooled validation
        rows (by time), then ``target``'s test rows.
    y : numpy.ndarray (n,)
        Targets in the same order.
    split : lobutils.evaluation.TrainValTest
        Positions of the three blocks in ``X``.
    sizes : dict
        Training and validation rows contributed by each market.

    Raises
    ------
    ValueError
        If a market's features differ from ``target``'s, or ``target`` has fewer than two
        training rows before its validation block.
    """
    s = target.split
    t_val = int(target.ts[s.val[0]])
    t_test = int(target.ts[s.test[0]])
    cols = list(target.X.columns)
    train_parts, val_parts, sizes = [], [], {}
    test_block = None
    for td in tasks:
        if list(td.X.columns) != cols:
            raise ValueError(f"{td.segment}: features differ from {target.segment}'s")
        X = td.X.to_numpy(dtype=np.float64)
        train = np.flatnonzero(td.target_end < t_val)
        val = np.flatnonzero((td.ts >= t_val) & (td.target_end < t_test))
        if train.size < 2:
            continue
        mu, sd = _standardise(X, train)
        Z = (X - mu) / sd
        train_parts.append((td.ts[train], Z[train], td.y[train]))
        val_parts.append((td.ts[val], Z[val], td.y[val]))
        sizes[td.segment] = int(train.size + val.size)
        if td is target:
            test = np.asarray(s.test)
            test_block = (Z[test], td.y[test])
    if test_block is None:
        raise ValueError(f"{target.segment}: no training rows before its validation block")

    def stack(parts):
        ts = np.concatenate([p[0] for p in parts])
        order = np.argsort(ts, kind="stable")
        return np.concatenate([p[1] for p in parts])[order], np.concatenate([p[2] for p in parts])[
            order
        ]

    Xa, ya = stack(train_parts)
    Xv, yv = stack(val_parts)
    Xt, yt = test_block
    na, nv, nt = len(ya), len(yv), len(yt)
    split = ev.TrainValTest(np.arange(na), np.arange(na, na + nv), np.arange(na + nv, na + nv + nt))
    return np.vstack([Xa, Xv, Xt]), np.concatenate([ya, yv, yt]), split, sizes


def _fit_predict(mc, task, X, y, split, cfg) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = zoo.tune(mc, task, X, y, split, metric=cfg.tune_metric(task)).best
        return zoo.fit_final(best, task, X, y, split, refit=cfg.refit).y_pred


def compare_pooled(
    datasets: Sequence[Dataset],
    horizon: int | str,
    models: Sequence[str] = ("linear", "xgboost"),
    *,
    target: str = "return",
    metric: str = "r2_oos",
    config: zoo.ZooConfig | None = None,
    n_boot: int = 500,
    seed: int = 0,
) -> PooledComparison:
    """Score per-market and pooled models on each market's test block.

    Parameters
    ----------
    datasets : sequence of Dataset
        The markets, built with the same features (:func:`lobutils.features.dataset.build_dataset`).
    horizon : int or str
        One of the datasets' horizons.
    models : sequence of str
        Names of :data:`lobutils.models.zoo.MODEL_CONFIGS`.
    target : str
        A regression target of :data:`lobutils.models.zoo.TARGETS` (``return``).
    metric : str
        A regression metric of :mod:`lobutils.evaluation` (``r2_oos``, ``mse``, ...).
    config : lobutils.models.zoo.ZooConfig, optional
        Split fractions, embargo, refit rule and bootstrap; default chapter 6's defaults
        with ``n_boot`` and ``seed``.
    n_boot : int
        Block-bootstrap resamples of the intervals (used when ``config`` is None).
    seed : int
        Seed of the models and the bootstrap (used when ``config`` is None).

    Returns
    -------
    PooledComparison
        Per market and model, the per-market and the pooled model's score on that market's
        test block (chronological, out-of-sample) with intervals.

    Raises
    ------
    ValueError
        If ``target`` is not a regression target or ``metric`` is unknown.
    """
    cfg = config or zoo.ZooConfig(
        models=zoo.make_models(models, seed=seed),
        targets=(target,),
        n_boot=n_boot,
        importance_repeats=0,
        seed=seed,
    )
    task = zoo.task_of(target)
    if task != "regression":
        raise ValueError(f"compare_pooled scores regression targets; {target!r} is {task}")
    fn = getattr(ev, metric, None)
    if metric not in ev.GREATER_IS_BETTER or not callable(fn):
        raise ValueError(f"unknown metric {metric!r}")
    higher = ev.GREATER_IS_BETTER[metric]
    model_cfgs = zoo.make_models(models, seed=cfg.seed)

    tasks, skipped = [], []
    for ds in datasets:
        try:
            tasks.append(zoo.make_task(ds, horizon, target, cfg))
        except ValueError as exc:
            skipped.append({"segment": ds.name, "reason": str(exc)})
    scores, diffs = [], []
    for td in tasks:
        try:
            Xp, yp, sp, sizes = pooled_split(tasks, td)
        except ValueError as exc:
            skipped.append({"segment": td.segment, "reason": str(exc)})
            continue
        test = np.asarray(td.split.test)
        y_test = td.y[test]
        n_own = int(len(td.split.train) + len(td.split.val))
        n_pool = int(len(sp.train) + len(sp.val))
        boot = ev.BootstrapConfig(
            block_length=int(min(len(test), max(td.horizon_rows, cfg.min_block_rows))),
            n_boot=cfg.n_boot,
            confidence=cfg.confidence,
            seed=cfg.seed,
        )
        key = {
            "segment": td.segment,
            "market": td.market,
            "symbol": td.symbol,
            "horizon": td.horizon,
        }
        for mc in model_cfgs:
            own = _fit_predict(mc, task, td.X, td.y, td.split, cfg)
            pooled = _fit_predict(mc, task, Xp, yp, sp, cfg)
            for training, pred, n in (("own", own, n_own), ("pooled", pooled, n_pool)):
                ci = ev.block_bootstrap_ci(fn, y_test, pred, config=boot)
                scores.append(
                    key
                    | {
                        "model": mc.name,
                        "training": training,
                        "metric": metric,
                        "value": ci.estimate,
                        "ci_low": ci.ci_low,
                        "ci_high": ci.ci_high,
                        "n_train": n,
                        "n_test": int(len(test)),
                    }
                )
            t = ev.paired_bootstrap_test(fn, y_test, pooled, own, config=boot)
            better = t.ci_low > 0 if higher else t.ci_high < 0
            worse = t.ci_high < 0 if higher else t.ci_low > 0
            diffs.append(
                key
                | {
                    "model": mc.name,
                    "metric": metric,
                    "own": t.baseline_value,
                    "pooled": t.model_value,
                    "diff": t.diff,
                    "ci_low": t.ci_low,
                    "ci_high": t.ci_high,
                    "p_value": t.p_value,
                    "pooled_better": bool(better),
                    "pooled_worse": bool(worse),
                    "n_train_own": n_own,
                    "n_train_pooled": n_pool,
                    "markets_pooled": len(sizes),
                }
            )
    return PooledComparison(
        pd.DataFrame(scores),
        pd.DataFrame(diffs),
        pd.DataFrame(skipped, columns=["segment", "reason"]),
    )
