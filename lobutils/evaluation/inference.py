"""Uncertainty of a metric: block bootstrap and the Diebold-Mariano test.

:func:`block_bootstrap_ci` (percentile interval of one metric), :func:`paired_bootstrap_test`
(a model against a baseline on the same resampled rows) and :func:`diebold_mariano` (equal
predictive accuracy, with a HAC long-run variance). Block lengths are in rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from lobutils.evaluation._checks import (
    _array_1d,
    _check_nonneg_int,
    _check_pos_int,
    _float_1d,
    _same_length,
)

__all__ = [
    "BootstrapCI",
    "BootstrapConfig",
    "DieboldMarianoResult",
    "PairedBootstrapResult",
    "block_bootstrap_ci",
    "block_bootstrap_indices",
    "diebold_mariano",
    "paired_bootstrap_test",
]


# --------------------------------------------------------------------------------------------
# Block bootstrap
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapConfig:
    """Block-bootstrap settings.

    Parameters
    ----------
    block_length : int
        Rows per block; at least the target horizon in rows (overlapping targets inside a block
        stay together). No default, on purpose.
    n_boot : int
        Resamples.
    method : {"circular", "moving"}
        Circular blocks wrap around the end (every row equally likely, Politis & Romano 1992);
        moving blocks (Künsch 1989) start anywhere a whole block fits.
    confidence : float
        Level of the percentile interval.
    seed : int
        Seed of the block starts, >= 0.
    """

    block_length: int
    n_boot: int = 1000
    method: Literal["circular", "moving"] = "circular"
    confidence: float = 0.95
    seed: int = 0

    def __post_init__(self) -> None:
        _check_pos_int("block_length", self.block_length)
        _check_pos_int("n_boot", self.n_boot)
        if self.method not in ("circular", "moving"):
            raise ValueError(f"method must be 'circular' or 'moving', got {self.method!r}")
        if not 0.0 < float(self.confidence) < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence!r}")
        _check_nonneg_int("seed", self.seed)


def block_bootstrap_indices(n: int, config: BootstrapConfig) -> Iterator[np.ndarray]:
    """Yield ``config.n_boot`` resampled row-index arrays of length ``n``.

    Each array is ``ceil(n / L)`` blocks of ``L`` consecutive rows laid end to end and cut to
    ``n``. Block starts are uniform on ``0..n-1`` (circular, indices taken modulo ``n``) or on
    ``0..n-L`` (moving).

    Parameters
    ----------
    n : int
        Number of rows.
    config : BootstrapConfig
        Block length (``L``, rows), number of resamples, method and seed.

    Yields
    ------
    numpy.ndarray
        int64 row indices, length ``n``, one array per resample.

    Raises
    ------
    ValueError
        If the block is longer than the ``n`` rows.

    Examples
    --------
    >>> [i.tolist() for i in block_bootstrap_indices(5, BootstrapConfig(block_length=2, n_boot=2))]
    [[4, 0, 3, 4, 2], [1, 2, 1, 2, 0]]
    """
    _check_pos_int("n", n)
    L = config.block_length
    if L > n:
        raise ValueError(f"block_length={L} exceeds the {n} rows")
    rng = np.random.default_rng(config.seed)
    n_blocks = -(-n // L)
    offsets = np.arange(L, dtype=np.int64)
    high = n if config.method == "circular" else n - L + 1
    for _ in range(config.n_boot):
        starts = rng.integers(0, high, size=n_blocks)
        idx = (starts[:, None] + offsets).ravel()[:n]
        if config.method == "circular":
            idx %= n
        yield idx


def _bootstrap(
    stat: Callable[..., Any], arrays: Sequence[np.ndarray], config: BootstrapConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Point estimate (m,) and bootstrap samples (n_boot, m) of a vector statistic."""
    n = _same_length(**{f"array {i}": a for i, a in enumerate(arrays)})
    est = np.atleast_1d(np.asarray(stat(*arrays), dtype=np.float64))
    samples = np.empty((config.n_boot, est.size))
    for b, idx in enumerate(block_bootstrap_indices(n, config)):
        samples[b] = np.asarray(stat(*(a[idx] for a in arrays)), dtype=np.float64)
    return est, samples


def _percentile(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    alpha = 1.0 - confidence
    out_lo = np.full(samples.shape[1], np.nan)
    out_hi = np.full(samples.shape[1], np.nan)
    for j in range(samples.shape[1]):
        col = samples[:, j]
        col = col[np.isfinite(col)]
        if col.size:
            out_lo[j], out_hi[j] = np.quantile(col, [alpha / 2, 1 - alpha / 2])
    return out_lo, out_hi


@dataclass(frozen=True)
class BootstrapCI:
    """A point estimate with its block-bootstrap percentile interval.

    ``n_valid`` counts the resamples where the metric was defined (finite).

    Parameters
    ----------
    estimate : float
        The metric on the original rows.
    ci_low, ci_high : float
        Percentile interval of the resampled metric.
    std_error : float
        Standard deviation of the defined resamples (NaN with fewer than two).
    confidence : float
        Level of the interval.
    block_length : int
        Rows per block.
    n_boot : int
        Resamples drawn.
    n_valid : int
        Resamples where the metric was finite.
    samples : numpy.ndarray
        The metric on every resample, shape ``(n_boot,)``.
    """

    estimate: float
    ci_low: float
    ci_high: float
    std_error: float
    confidence: float
    block_length: int
    n_boot: int
    n_valid: int
    samples: np.ndarray = field(repr=False)


def block_bootstrap_ci(
    metric: Callable[..., float], *arrays: Any, config: BootstrapConfig
) -> BootstrapCI:
    """Block-bootstrap percentile confidence interval of ``metric(*arrays)``.

    The arrays are resampled jointly (the same row indices), so ``metric(y_true, y_pred)``
    keeps each forecast with its target.

    Parameters
    ----------
    metric : callable
        Returns a float; e.g. :func:`mse` or ``np.mean``.
    *arrays : arrays of equal length
        The metric's arguments, resampled jointly.
    config : BootstrapConfig
        Block length (rows), resamples, confidence and seed.

    Returns
    -------
    BootstrapCI
        The estimate, its percentile interval and the resampled values.

    Examples
    --------
    >>> ci = block_bootstrap_ci(np.mean, np.full(50, 2.0), config=BootstrapConfig(block_length=5))
    >>> ci.estimate, ci.ci_low, ci.ci_high
    (2.0, 2.0, 2.0)
    """
    if not callable(metric):
        raise ValueError("metric must be callable")
    if not arrays:
        raise ValueError("give at least one array")
    arrs = [_array_1d(f"array {i}", a) for i, a in enumerate(arrays)]
    est, samples = _bootstrap(lambda *a: float(metric(*a)), arrs, config)
    lo, hi = _percentile(samples, config.confidence)
    s = samples[:, 0]
    ok = np.isfinite(s)
    se = float(np.std(s[ok], ddof=1)) if ok.sum() > 1 else math.nan
    return BootstrapCI(
        float(est[0]),
        float(lo[0]),
        float(hi[0]),
        se,
        float(config.confidence),
        config.block_length,
        config.n_boot,
        int(ok.sum()),
        s,
    )


@dataclass(frozen=True)
class PairedBootstrapResult:
    """Model minus baseline on one metric, with a paired block-bootstrap CI and p-value.

    Parameters
    ----------
    model_value, baseline_value : float
        The metric of the model and of the baseline on the original rows.
    diff : float
        ``model_value - baseline_value``.
    ci_low, ci_high : float
        Percentile interval of the difference.
    p_value : float
        Two-sided p-value of "no difference".
    block_length : int
        Rows per block.
    n_boot : int
        Resamples drawn.
    """

    model_value: float
    baseline_value: float
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    block_length: int
    n_boot: int


def _paired_p_value(diff: float, d_samples: np.ndarray) -> float:
    d = d_samples[np.isfinite(d_samples)]
    if d.size == 0 or not np.isfinite(diff):
        return math.nan
    return float((1 + np.sum(np.abs(d - diff) >= abs(diff))) / (d.size + 1))


def paired_bootstrap_test(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y_true: Any,
    pred_model: Any,
    pred_baseline: Any,
    *,
    config: BootstrapConfig,
) -> PairedBootstrapResult:
    """Paired block-bootstrap test of ``metric(y, model) - metric(y, baseline)``.

    Both forecasts are scored on the same resampled rows, so the interval is for the
    difference. The two-sided p-value tests "no difference" by centring the bootstrap
    distribution on zero: ``(1 + #{|d* - d| >= |d|}) / (1 + B)``.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, y_pred) -> float``, e.g. :func:`~lobutils.evaluation.metrics.mse`.
    y_true : array (n,)
        Targets.
    pred_model, pred_baseline : array (n,)
        The two forecasts, aligned with ``y_true``.
    config : BootstrapConfig
        Block length (rows), resamples, confidence and seed.

    Returns
    -------
    PairedBootstrapResult
        The difference with its interval and p-value.

    Raises
    ------
    ValueError
        If ``metric`` is not callable or the arrays differ in length.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.normal(size=400)
    >>> from lobutils.evaluation.metrics import mse
    >>> res = paired_bootstrap_test(mse, y, y + 0.1 * rng.normal(size=400), np.zeros(400),
    ...                             config=BootstrapConfig(block_length=10, n_boot=200))
    >>> res.diff < 0, res.ci_high < 0, res.p_value < 0.01
    (True, True, True)
    """
    if not callable(metric):
        raise ValueError("metric must be callable")
    y = _array_1d("y_true", y_true)
    a = _array_1d("pred_model", pred_model)
    b = _array_1d("pred_baseline", pred_baseline)
    _same_length(y_true=y, pred_model=a, pred_baseline=b)
    est, samples = _bootstrap(
        lambda yy, aa, bb: [metric(yy, aa), metric(yy, bb)], [y, a, b], config
    )
    diff = float(est[0] - est[1])
    d = samples[:, 0] - samples[:, 1]
    lo, hi = _percentile(d[:, None], config.confidence)
    return PairedBootstrapResult(
        float(est[0]),
        float(est[1]),
        diff,
        float(lo[0]),
        float(hi[0]),
        _paired_p_value(diff, d),
        config.block_length,
        config.n_boot,
    )


# --------------------------------------------------------------------------------------------
# Diebold-Mariano
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DieboldMarianoResult:
    """Diebold-Mariano test of equal expected loss.

    ``statistic < 0`` means model A has the lower loss. ``p_value`` is two-sided;
    ``p_value_a_better`` is one-sided for "A has lower expected loss".

    Parameters
    ----------
    statistic : float
        The corrected DM statistic.
    p_value : float
        Two-sided p-value.
    p_value_a_better : float
        One-sided p-value for "A has lower expected loss".
    mean_diff : float
        Mean of ``loss_a - loss_b``.
    long_run_variance : float
        HAC variance of the loss difference.
    n : int
        Rows.
    horizon : int
        Forecast horizon in rows.
    kernel : str
        The kernel actually used (``"bartlett"`` when the rectangular one went negative).
    """

    statistic: float
    p_value: float
    p_value_a_better: float
    mean_diff: float
    long_run_variance: float
    n: int
    horizon: int
    kernel: str


def _long_run_variance(d: np.ndarray, lags: int, kernel: str) -> float:
    n = d.size
    u = d - d.mean()
    v = float(np.dot(u, u)) / n
    for k in range(1, lags + 1):
        w = 1.0 if kernel == "rectangular" else 1.0 - k / (lags + 1)
        v += 2.0 * w * float(np.dot(u[k:], u[:-k])) / n
    return v


def diebold_mariano(
    loss_a: Any,
    loss_b: Any,
    horizon: int = 1,
    *,
    kernel: Literal["bartlett", "rectangular"] = "bartlett",
) -> DieboldMarianoResult:
    """Diebold-Mariano (1995) test with the Harvey-Leybourne-Newbold (1997) correction.

    With ``d = loss_a - loss_b`` and ``h = horizon`` (in rows), the long-run variance is
    ``γ0 + 2 Σ_{k=1}^{h-1} w_k γ_k`` with autocovariances ``γ_k = Σ_t (d_t - d̄)(d_{t-k} - d̄)
    / n``. The default weights are Newey-West's Bartlett weights ``w_k = 1 - k / h`` (never
    negative); ``kernel="rectangular"`` gives the original ``w_k = 1``, which can go negative
    and then falls back to Bartlett. The statistic ``d̄ / sqrt(V / n)`` is multiplied by
    ``sqrt((n + 1 - 2h + h(h - 1) / n) / n)`` and compared with Student's t on ``n - 1``
    degrees of freedom. Forecasts of ``h``-row overlapping targets have MA(h-1) errors, hence
    ``h - 1`` lags.

    Parameters
    ----------
    loss_a, loss_b : array (n,)
        Per-row losses, e.g. squared errors of model and baseline.
    horizon : int
        Forecast horizon in rows.
    kernel : {"bartlett", "rectangular"}
        Weights of the autocovariances.

    Returns
    -------
    DieboldMarianoResult
        The statistic, the two- and one-sided p-values and the kernel used.

    Examples
    --------
    >>> r = diebold_mariano([1.0, 2.0, 1.0, 3.0], [2.0, 2.0, 2.0, 2.0], horizon=1)
    >>> round(r.statistic, 4), round(r.p_value, 4)
    (-0.5222, 0.6376)
    """
    a = _float_1d("loss_a", loss_a)
    b = _float_1d("loss_b", loss_b)
    n = _same_length(loss_a=a, loss_b=b)
    _check_pos_int("horizon", horizon)
    if kernel not in ("bartlett", "rectangular"):
        raise ValueError(f"kernel must be 'bartlett' or 'rectangular', got {kernel!r}")
    if n < 2 * horizon + 1:
        raise ValueError(f"need at least 2*horizon+1 = {2 * horizon + 1} rows, got {n}")
    from scipy.special import stdtr

    d = a - b
    dbar = float(d.mean())
    used = kernel
    v = _long_run_variance(d, horizon - 1, kernel)
    if v <= 0 and kernel == "rectangular":
        used = "bartlett"
        v = _long_run_variance(d, horizon - 1, "bartlett")
    if v <= 0:
        stat = 0.0 if dbar == 0 else math.copysign(math.inf, dbar)
    else:
        stat = dbar / math.sqrt(v / n)
        stat *= math.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)
    df = n - 1
    p_less = float(stdtr(df, stat))
    p_two = float(min(1.0, 2.0 * min(p_less, 1.0 - p_less)))
    return DieboldMarianoResult(stat, p_two, p_less, dbar, v, n, int(horizon), used)
