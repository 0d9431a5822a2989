"""The results table: every model number next to its best naive baseline.

:func:`results_table` scores models and baselines on the same block-resampled rows, so that the
differences are paired, and adds the Diebold-Mariano test of the loss metrics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np
import pandas as pd

from lobutils.evaluation._checks import (
    _array_1d,
    _float_1d,
    _same_length,
)
from lobutils.evaluation.inference import (
    BootstrapConfig,
    _bootstrap,
    _paired_p_value,
    _percentile,
    diebold_mariano,
)
from lobutils.evaluation.metrics import (
    _CLASSIFICATION_METRICS,
    _REGRESSION_METRICS,
    GREATER_IS_BETTER,
    _confusion,
    _dense_codes,
    _encode,
    _metrics_from_confusion,
    _regression_vector,
)

__all__ = [
    "results_table",
]


_RESULT_COLUMNS = [
    "model",
    "role",
    "target",
    "horizon",
    "metric",
    "value",
    "ci_low",
    "ci_high",
    "baseline",
    "baseline_value",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "p_value",
    "beats_baseline",
    "dm_stat",
    "dm_p_value",
    "n",
    "block_length",
    "n_boot",
]


def results_table(
    y_true: Any,
    predictions: Mapping[str, Any],
    baselines: Mapping[str, Any],
    *,
    task: Literal["regression", "classification"],
    config: BootstrapConfig,
    target: str = "",
    horizon: Any = "",
    labels: Any | None = None,
    dm_horizon: int | None = None,
) -> pd.DataFrame:
    """Every metric of every model next to its best naive baseline, with bootstrap CIs.

    All forecasts are scored on the same block-resampled rows, so the differences are paired.
    For each model and metric, ``baseline`` is the naive baseline with the best point value on
    that metric (the hardest one to beat); ``diff = value - baseline_value`` with its CI and
    the paired p-value of :func:`paired_bootstrap_test`. ``beats_baseline`` is True when the
    whole CI of ``diff`` lies on the better side of zero. With ``dm_horizon`` (rows), the loss
    metrics (MSE: squared loss, MAE: absolute loss, accuracy: 0-1 loss) also get the
    :func:`diebold_mariano` statistic and p-value of model against that baseline. Baseline rows
    (``role == "baseline"``) carry their own value and CI only.

    Parameters
    ----------
    y_true : array (n,)
        Pooled out-of-sample targets.
    predictions, baselines : mapping name -> array (n,)
        Model and baseline forecasts (predicted values or labels) on the same rows.
    task : {"regression", "classification"}
    config : BootstrapConfig
    target, horizon
        Labels written into the table (e.g. ``"ret_bps"``, ``"10s"``).
    labels : array, optional
        Class labels (classification); default all labels seen.
    dm_horizon : int, optional
        Target horizon in rows for the Diebold-Mariano columns.

    Returns
    -------
    pandas.DataFrame
        Tidy: one row per (model, metric); columns as listed in the source. Concatenate tables
        of several targets and horizons with ``pd.concat``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=300)
    >>> tab = results_table(y, {"oracle": y + 0.3 * rng.normal(size=300)}, {"zero": np.zeros(300)},
    ...                     task="regression", config=BootstrapConfig(block_length=5, n_boot=100))
    >>> tab.query("metric == 'mse'")[["model", "role", "baseline", "beats_baseline"]]
        model      role baseline  beats_baseline
    0  oracle     model     zero            True
    6    zero  baseline      NaN            <NA>
    """
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    if not predictions:
        raise ValueError("predictions is empty")
    if not baselines:
        raise ValueError("give at least one baseline: every model number sits next to one")
    clash = set(predictions) & set(baselines)
    if clash:
        raise ValueError(f"names used for both a model and a baseline: {sorted(clash)}")
    names = [*predictions, *baselines]
    roles = ["model"] * len(predictions) + ["baseline"] * len(baselines)
    raw = [*predictions.values(), *baselines.values()]
    if task == "regression":
        yt = _float_1d("y_true", y_true)
        preds = [_float_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
        metric_names = _REGRESSION_METRICS
        # Rank codes travel through the resampling with the values: Spearman without sorting.
        ct, kt = _dense_codes(yt)
        codes = [_dense_codes(p) for p in preds]
        extra = [ct, *[c for c, _ in codes]]
        ks = [k for _, k in codes]
        n_f = len(preds)

        def stat(*arrs: np.ndarray) -> np.ndarray:
            y, ps, cy, cps = arrs[0], arrs[1 : 1 + n_f], arrs[1 + n_f], arrs[2 + n_f :]
            return np.concatenate(
                [
                    _regression_vector(y, p, cy, kt, c, k)
                    for p, c, k in zip(ps, cps, ks, strict=True)
                ]
            )

    else:
        yt0 = _array_1d("y_true", y_true)
        preds0 = [_array_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
        lab = (
            np.unique(np.concatenate([yt0, *preds0]))
            if labels is None
            else np.unique(np.asarray(labels))
        )
        yt = _encode(lab, "y_true", yt0)
        preds = [_encode(lab, f"prediction {nm!r}", p) for nm, p in zip(names, preds0, strict=True)]
        k = len(lab)
        metric_names = _CLASSIFICATION_METRICS
        extra = []

        def stat(*arrs: np.ndarray) -> np.ndarray:
            return np.concatenate(
                [_metrics_from_confusion(_confusion(arrs[0], p, k)) for p in arrs[1:]]
            )

    n = _same_length(
        y_true=yt, **{f"prediction {nm!r}": p for nm, p in zip(names, preds, strict=True)}
    )
    if n == 0:
        raise ValueError("y_true is empty")
    est, samples = _bootstrap(stat, [yt, *preds, *extra], config)
    m = len(metric_names)
    est = est.reshape(len(names), m)
    samples = samples.reshape(config.n_boot, len(names), m)
    lo_all, hi_all = _percentile(samples.reshape(config.n_boot, -1), config.confidence)
    lo_all = lo_all.reshape(len(names), m)
    hi_all = hi_all.reshape(len(names), m)
    base_ix = [i for i, r in enumerate(roles) if r == "baseline"]
    loss_of = {
        "mse": lambda y, p: (y - p) ** 2,
        "mae": lambda y, p: np.abs(y - p),
        "accuracy": lambda y, p: (y != p).astype(np.float64),
    }
    rows = []
    for i, (name, role) in enumerate(zip(names, roles, strict=True)):
        for j, metric in enumerate(metric_names):
            row: dict[str, Any] = {
                "model": name,
                "role": role,
                "target": target,
                "horizon": horizon,
                "metric": metric,
                "value": est[i, j],
                "ci_low": lo_all[i, j],
                "ci_high": hi_all[i, j],
                "baseline": None,
                "baseline_value": math.nan,
                "diff": math.nan,
                "diff_ci_low": math.nan,
                "diff_ci_high": math.nan,
                "p_value": math.nan,
                "beats_baseline": None,
                "dm_stat": math.nan,
                "dm_p_value": math.nan,
                "n": n,
                "block_length": config.block_length,
                "n_boot": config.n_boot,
            }
            if role == "model":
                better = GREATER_IS_BETTER[metric]
                vals = np.array([est[b, j] for b in base_ix])
                finite = np.isfinite(vals)
                if finite.any():
                    pick = np.where(finite, vals, -np.inf if better else np.inf)
                    bi = base_ix[int(np.argmax(pick) if better else np.argmin(pick))]
                    d = samples[:, i, j] - samples[:, bi, j]
                    diff = float(est[i, j] - est[bi, j])
                    dlo, dhi = _percentile(d[:, None], config.confidence)
                    row.update(
                        baseline=names[bi],
                        baseline_value=est[bi, j],
                        diff=diff,
                        diff_ci_low=float(dlo[0]),
                        diff_ci_high=float(dhi[0]),
                        p_value=_paired_p_value(diff, d),
                        beats_baseline=bool(dlo[0] > 0) if better else bool(dhi[0] < 0),
                    )
                    if dm_horizon is not None and metric in loss_of and n >= 2 * dm_horizon + 1:
                        la = loss_of[metric](yt, preds[i])
                        lb = loss_of[metric](yt, preds[bi])
                        dm = diebold_mariano(la, lb, dm_horizon)
                        row.update(dm_stat=dm.statistic, dm_p_value=dm.p_value)
            rows.append(row)
    out = pd.DataFrame(rows, columns=_RESULT_COLUMNS)
    out["beats_baseline"] = out["beats_baseline"].astype("boolean")
    return out
