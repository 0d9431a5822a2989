"""The results table: every model number next to its best naive baseline.

:func:`results_table` scores models and baselines on the same block-resampled rows, so that the
differences are paired, and adds the Diebold-Mariano test of the loss metrics.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, Literal, NamedTuple

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
        Which metrics and baselines.
    config : BootstrapConfig
        Block length (rows), resamples, confidence and seed of every interval.
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
    _check_forecasts(task, predictions, baselines)
    names = [*predictions, *baselines]
    roles = ["model"] * len(predictions) + ["baseline"] * len(baselines)
    raw = [*predictions.values(), *baselines.values()]
    if task == "regression":
        scored = _regression_inputs(y_true, names, raw)
    else:
        scored = _classification_inputs(y_true, names, raw, labels)
    n = _same_length(
        y_true=scored.y,
        **{f"prediction {nm!r}": p for nm, p in zip(names, scored.preds, strict=True)},
    )
    if n == 0:
        raise ValueError("y_true is empty")
    boot = _bootstrap_metrics(scored, len(names), config)
    base_ix = [i for i, r in enumerate(roles) if r == "baseline"]
    rows = []
    for i, (name, role) in enumerate(zip(names, roles, strict=True)):
        for j, metric in enumerate(scored.metrics):
            row = _base_row(name, role, metric, boot, i, j, n, config, target, horizon)
            bi = _best_baseline(boot.est[base_ix, j], base_ix, metric) if role == "model" else None
            if bi is not None:
                row.update(_versus_baseline(boot, i, bi, j, metric, names[bi], config.confidence))
                if dm_horizon is not None and metric in _LOSSES and n >= 2 * dm_horizon + 1:
                    row.update(_dm_columns(scored, i, bi, metric, dm_horizon))
            rows.append(row)
    out = pd.DataFrame(rows, columns=_RESULT_COLUMNS)
    out["beats_baseline"] = out["beats_baseline"].astype("boolean")
    return out


def _check_forecasts(
    task: str, predictions: Mapping[str, Any], baselines: Mapping[str, Any]
) -> None:
    """Reject an unknown task, no models, no baselines, or a name used for both."""
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    if not predictions:
        raise ValueError("predictions is empty")
    if not baselines:
        raise ValueError("give at least one baseline: every model number sits next to one")
    clash = set(predictions) & set(baselines)
    if clash:
        raise ValueError(f"names used for both a model and a baseline: {sorted(clash)}")


class _Scored(NamedTuple):
    """Validated forecasts and the vector statistic that scores all of them at once."""

    y: np.ndarray
    preds: list[np.ndarray]
    extra: list[np.ndarray]  # resampled with the rows (rank codes), passed after the forecasts
    metrics: tuple[str, ...]
    stat: Callable[..., np.ndarray]


def _regression_inputs(y_true: Any, names: list[str], raw: list[Any]) -> _Scored:
    """Float forecasts; their rank codes travel through the resampling (Spearman, no sort)."""
    yt = _float_1d("y_true", y_true)
    preds = [_float_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
    ct, kt = _dense_codes(yt)
    codes = [_dense_codes(p) for p in preds]
    ks = [k for _, k in codes]
    n_f = len(preds)

    def stat(*arrs: np.ndarray) -> np.ndarray:
        y, ps, cy, cps = arrs[0], arrs[1 : 1 + n_f], arrs[1 + n_f], arrs[2 + n_f :]
        return np.concatenate(
            [_regression_vector(y, p, cy, kt, c, k) for p, c, k in zip(ps, cps, ks, strict=True)]
        )

    return _Scored(yt, preds, [ct, *[c for c, _ in codes]], _REGRESSION_METRICS, stat)


def _classification_inputs(
    y_true: Any, names: list[str], raw: list[Any], labels: Any | None
) -> _Scored:
    """Labels encoded as codes ``0..k-1``; the statistic works on confusion matrices."""
    yt0 = _array_1d("y_true", y_true)
    preds0 = [_array_1d(f"prediction {nm!r}", p) for nm, p in zip(names, raw, strict=True)]
    seen = np.concatenate([yt0, *preds0]) if labels is None else np.asarray(labels)
    lab = np.unique(seen)
    yt = _encode(lab, "y_true", yt0)
    preds = [_encode(lab, f"prediction {nm!r}", p) for nm, p in zip(names, preds0, strict=True)]
    k = len(lab)

    def stat(*arrs: np.ndarray) -> np.ndarray:
        return np.concatenate(
            [_metrics_from_confusion(_confusion(arrs[0], p, k)) for p in arrs[1:]]
        )

    return _Scored(yt, preds, [], _CLASSIFICATION_METRICS, stat)


class _Boot(NamedTuple):
    """Point values, resamples and percentile bounds, indexed ``[forecast, metric]``."""

    est: np.ndarray  # (n_forecasts, n_metrics)
    samples: np.ndarray  # (n_boot, n_forecasts, n_metrics)
    lo: np.ndarray
    hi: np.ndarray


def _bootstrap_metrics(scored: _Scored, n_forecasts: int, config: BootstrapConfig) -> _Boot:
    """Every metric of every forecast on the same block-resampled rows."""
    est, samples = _bootstrap(scored.stat, [scored.y, *scored.preds, *scored.extra], config)
    shape = (n_forecasts, len(scored.metrics))
    lo, hi = _percentile(samples, config.confidence)
    return _Boot(
        est.reshape(shape),
        samples.reshape(config.n_boot, *shape),
        lo.reshape(shape),
        hi.reshape(shape),
    )


def _base_row(
    name: str,
    role: str,
    metric: str,
    boot: _Boot,
    i: int,
    j: int,
    n: int,
    config: BootstrapConfig,
    target: str,
    horizon: Any,
) -> dict[str, Any]:
    """A row with the forecast's own value and CI; the comparison columns empty."""
    return {
        "model": name,
        "role": role,
        "target": target,
        "horizon": horizon,
        "metric": metric,
        "value": boot.est[i, j],
        "ci_low": boot.lo[i, j],
        "ci_high": boot.hi[i, j],
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


def _best_baseline(values: np.ndarray, base_ix: list[int], metric: str) -> int | None:
    """Index of the baseline with the best finite value on ``metric``; None if none is finite."""
    finite = np.isfinite(values)
    if not finite.any():
        return None
    better = GREATER_IS_BETTER[metric]
    pick = np.where(finite, values, -np.inf if better else np.inf)
    return base_ix[int(np.argmax(pick) if better else np.argmin(pick))]


def _versus_baseline(
    boot: _Boot, i: int, bi: int, j: int, metric: str, baseline: str, confidence: float
) -> dict[str, Any]:
    """Paired difference of forecast ``i`` and baseline ``bi`` on metric ``j``, with its CI."""
    d = boot.samples[:, i, j] - boot.samples[:, bi, j]
    diff = float(boot.est[i, j] - boot.est[bi, j])
    dlo, dhi = _percentile(d[:, None], confidence)
    better = GREATER_IS_BETTER[metric]
    return {
        "baseline": baseline,
        "baseline_value": boot.est[bi, j],
        "diff": diff,
        "diff_ci_low": float(dlo[0]),
        "diff_ci_high": float(dhi[0]),
        "p_value": _paired_p_value(diff, d),
        "beats_baseline": bool(dlo[0] > 0) if better else bool(dhi[0] < 0),
    }


_LOSSES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "mse": lambda y, p: (y - p) ** 2,
    "mae": lambda y, p: np.abs(y - p),
    "accuracy": lambda y, p: (y != p).astype(np.float64),
}
"""Per-row loss behind each metric that the Diebold-Mariano test compares."""


def _dm_columns(scored: _Scored, i: int, bi: int, metric: str, dm_horizon: int) -> dict[str, float]:
    """Diebold-Mariano statistic and p-value of forecast ``i`` against baseline ``bi``."""
    loss = _LOSSES[metric]
    dm = diebold_mariano(
        loss(scored.y, scored.preds[i]), loss(scored.y, scored.preds[bi]), dm_horizon
    )
    return {"dm_stat": dm.statistic, "dm_p_value": dm.p_value}
