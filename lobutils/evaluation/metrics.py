"""Regression and classification metrics, vectorised so that the bootstrap can resample them.

:func:`regression_metrics` (MSE, MAE, R², out-of-sample R², Pearson, Spearman) and
:func:`classification_metrics` (accuracy, balanced accuracy, macro F1, MCC, Cohen's kappa);
:data:`GREATER_IS_BETTER` gives the direction of each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from lobutils.evaluation._checks import (
    _array_1d,
    _float_1d,
    _same_length,
)

__all__ = [
    "GREATER_IS_BETTER",
    "accuracy",
    "balanced_accuracy",
    "class_balance",
    "classification_metrics",
    "cohen_kappa",
    "confusion_matrix",
    "macro_f1",
    "mae",
    "mcc",
    "mse",
    "pearson",
    "r2",
    "r2_oos",
    "regression_metrics",
    "spearman",
]

_REGRESSION_METRICS = ("mse", "mae", "r2", "r2_oos", "pearson", "spearman")
_CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "mcc", "cohen_kappa")

GREATER_IS_BETTER: dict[str, bool] = {
    "mse": False,
    "mae": False,
    "r2": True,
    "r2_oos": True,
    "pearson": True,
    "spearman": True,
    "accuracy": True,
    "balanced_accuracy": True,
    "macro_f1": True,
    "mcc": True,
    "cohen_kappa": True,
}
"""Direction of every metric that :func:`regression_metrics` and
:func:`classification_metrics` return."""


# --------------------------------------------------------------------------------------------
# Regression metrics
# --------------------------------------------------------------------------------------------


def _reg_pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    yt = _float_1d("y_true", y_true)
    yp = _float_1d("y_pred", y_pred)
    if _same_length(y_true=yt, y_pred=yp) == 0:
        raise ValueError("y_true is empty")
    return yt, yp


def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        The mean of ``(y_true - y_pred) ** 2``.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> mse([0.0, 2.0], [1.0, 0.0])
    2.5
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return float(np.mean((yt - yp) ** 2))


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        The mean of ``abs(y_true - y_pred)``.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> mae([0.0, 2.0], [1.0, 0.0])
    1.5
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return float(np.mean(np.abs(yt - yp)))


def _r2(yt: np.ndarray, yp: np.ndarray) -> float:
    sse = float(np.sum((yt - yp) ** 2))
    sst = float(np.sum((yt - yt.mean()) ** 2))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def r2(y_true: Any, y_pred: Any) -> float:
    """Coefficient of determination as scikit-learn computes it on the test block.

    ``1 - SSE / sum((y - mean(y))**2)``, where the mean is the *test* block's: the benchmark is
    a forecaster that knew the test mean in advance. For returns prefer :func:`r2_oos`.
    A constant ``y_true`` gives 1 for a perfect forecast and 0 otherwise (scikit-learn's rule).

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        At most 1; 0 matches the test-block mean.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> r2([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    0.5
    """
    return _r2(*_reg_pair(y_true, y_pred))


def _r2_oos(yt: np.ndarray, yp: np.ndarray) -> float:
    den = float(np.sum(yt**2))
    if den == 0.0:
        return math.nan
    return 1.0 - float(np.sum((yt - yp) ** 2)) / den


def r2_oos(y_true: Any, y_pred: Any) -> float:
    """Out-of-sample R² against the zero forecast, ``1 - SSE / sum(y**2)``.

    The standard for returns (Campbell & Thompson 2008; Gu, Kelly & Xiu 2020): positive means
    the model beats predicting no move. NaN when every ``y_true`` is zero.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        At most 1; 0 matches the zero forecast (NaN when every target is zero).

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> r2_oos([1.0, -1.0], [0.5, -0.5])
    0.75
    """
    return _r2_oos(*_reg_pair(y_true, y_pred))


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    # einsum, not np.dot: a multi-threaded BLAS spins threads for long vectors, which costs
    # far more than it saves inside a bootstrap loop on a busy machine.
    xm = x - x.mean()
    ym = y - y.mean()
    den = math.sqrt(float(np.einsum("i,i->", xm, xm)) * float(np.einsum("i,i->", ym, ym)))
    if den == 0.0:
        return math.nan
    return float(np.clip(np.einsum("i,i->", xm, ym) / den, -1.0, 1.0))


def _dense_codes(a: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense rank codes ``0..k-1`` of ``a`` (equal values share a code) and ``k``."""
    uniq, inv = np.unique(a, return_inverse=True)
    return inv.astype(np.int64).ravel(), len(uniq)


def _ranks_from_codes(codes: np.ndarray, k: int) -> np.ndarray:
    """Average ranks (1-based, ties averaged) from dense codes, in O(n) without a sort.

    A bootstrap resample keeps the original order of values, so the ranks of the resample
    follow from how often each code occurs in it.
    """
    counts = np.bincount(codes, minlength=k)
    start = np.cumsum(counts) - counts
    return (start + (counts + 1) / 2.0)[codes]


def _average_ranks(a: np.ndarray) -> np.ndarray:
    return _ranks_from_codes(*_dense_codes(a))


def pearson(y_true: Any, y_pred: Any) -> float:
    """Pearson correlation; NaN if either input is constant.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        In [-1, 1], or NaN.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> pearson([1.0, 2.0, 3.0], [2.0, 4.0, 7.0])
    0.9933992677987828
    """
    return _pearson(*_reg_pair(y_true, y_pred))


def spearman(y_true: Any, y_pred: Any) -> float:
    """Spearman rank correlation (average ranks for ties); NaN if either input is constant.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    float
        In [-1, 1], or NaN.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> spearman([1.0, 2.0, 3.0], [2.0, 4.0, 70.0])
    1.0
    """
    yt, yp = _reg_pair(y_true, y_pred)
    return _pearson(_average_ranks(yt), _average_ranks(yp))


def _regression_vector(
    yt: np.ndarray, yp: np.ndarray, ct: np.ndarray, kt: int, cp: np.ndarray, kp: int
) -> np.ndarray:
    """All regression metrics; ``ct``/``cp`` are the dense rank codes of ``yt``/``yp``."""
    err = yt - yp
    return np.array(
        [
            np.mean(err**2),
            np.mean(np.abs(err)),
            _r2(yt, yp),
            _r2_oos(yt, yp),
            _pearson(yt, yp),
            _pearson(_ranks_from_codes(ct, kt), _ranks_from_codes(cp, kp)),
        ]
    )


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    """MSE, MAE, R² (test-mean benchmark), R²_oos (zero benchmark), Pearson and Spearman.

    Parameters
    ----------
    y_true : array (n,)
        Targets, finite.
    y_pred : array (n,)
        Forecasts, finite, aligned with ``y_true``.

    Returns
    -------
    dict of str to float
        Metric name (``mse``, ``mae``, ``r2``, ``r2_oos``, ``pearson``, ``spearman``) to value.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length or hold NaN or infinite values.

    Examples
    --------
    >>> {k: round(v, 3) for k, v in regression_metrics([1.0, -1.0, 2.0], [0.5, -0.5, 1.0]).items()}
    {'mse': 0.5, 'mae': 0.667, 'r2': 0.679, 'r2_oos': 0.75, 'pearson': 1.0, 'spearman': 1.0}
    """
    yt, yp = _reg_pair(y_true, y_pred)
    vec = _regression_vector(yt, yp, *_dense_codes(yt), *_dense_codes(yp))
    return dict(zip(_REGRESSION_METRICS, vec.tolist(), strict=True))


# --------------------------------------------------------------------------------------------
# Classification metrics
# --------------------------------------------------------------------------------------------


def _encode(labels: np.ndarray, name: str, y: np.ndarray) -> np.ndarray:
    codes = np.searchsorted(labels, y)
    codes = np.clip(codes, 0, len(labels) - 1)
    if not np.all(labels[codes] == y):
        raise ValueError(f"{name} holds labels outside labels={labels.tolist()}")
    return codes.astype(np.int64)


def _class_pair(
    y_true: Any, y_pred: Any, labels: Any | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yt = _array_1d("y_true", y_true)
    yp = _array_1d("y_pred", y_pred)
    if _same_length(y_true=yt, y_pred=yp) == 0:
        raise ValueError("y_true is empty")
    for name, a in (("y_true", yt), ("y_pred", yp)):
        if a.dtype.kind == "f" and np.isnan(a).any():
            raise ValueError(f"{name} contains NaN labels")
    lab = np.unique(np.concatenate([yt, yp])) if labels is None else np.unique(np.asarray(labels))
    return _encode(lab, "y_true", yt), _encode(lab, "y_pred", yp), lab


def _confusion(ct: np.ndarray, cp: np.ndarray, k: int) -> np.ndarray:
    return np.bincount(ct * k + cp, minlength=k * k).reshape(k, k)


def _metrics_from_confusion(C: np.ndarray) -> np.ndarray:
    C = C.astype(np.float64)
    n = C.sum()
    t = C.sum(axis=1)
    p = C.sum(axis=0)
    tp = np.diag(C)
    acc = tp.sum() / n
    present = t > 0
    bal = float(np.mean(tp[present] / t[present]))
    den = t + p
    seen = den > 0
    f1 = float(np.mean(2 * tp[seen] / den[seen]))
    cov_tp = tp.sum() * n - float(np.dot(t, p))
    cov_pp = n * n - float(np.dot(p, p))
    cov_tt = n * n - float(np.dot(t, t))
    mcc_v = 0.0 if cov_pp * cov_tt == 0 else cov_tp / math.sqrt(cov_pp * cov_tt)
    pe = float(np.dot(t, p)) / (n * n)
    kappa = math.nan if pe == 1.0 else (acc - pe) / (1.0 - pe)
    return np.array([acc, bal, f1, mcc_v, kappa])


def confusion_matrix(y_true: Any, y_pred: Any, labels: Any | None = None) -> pd.DataFrame:
    """Counts with true labels as rows and predicted labels as columns.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    pandas.DataFrame
        Counts, index ``true`` and columns ``pred`` labels.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2])  # doctest: +NORMALIZE_WHITESPACE
    pred  0  1  2
    true
    0     1  0  0
    1     0  1  1
    2     0  0  1
    """
    ct, cp, lab = _class_pair(y_true, y_pred, labels)
    C = _confusion(ct, cp, len(lab))
    return pd.DataFrame(C, index=pd.Index(lab, name="true"), columns=pd.Index(lab, name="pred"))


def _one_metric(j: int) -> Callable[..., float]:
    def metric(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
        ct, cp, lab = _class_pair(y_true, y_pred, labels)
        return float(_metrics_from_confusion(_confusion(ct, cp, len(lab)))[j])

    return metric


def accuracy(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Share of correct labels.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> accuracy([0, 1, 1, 1], [1, 1, 1, 1])
    0.75
    """
    return _one_metric(0)(y_true, y_pred, labels)


def balanced_accuracy(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Mean recall over the classes present in ``y_true``; chance is ``1 / n_classes``.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> balanced_accuracy([0, 1, 1, 1], [1, 1, 1, 1])
    0.5
    """
    return _one_metric(1)(y_true, y_pred, labels)


def macro_f1(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Unweighted mean F1 over the classes seen in ``y_true`` or ``y_pred``.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    float
        In [0, 1].

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> round(macro_f1([0, 1, 1, 1], [1, 1, 1, 1]), 4)
    0.4286
    """
    return _one_metric(2)(y_true, y_pred, labels)


def mcc(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Matthews correlation coefficient (multiclass form); 0 when undefined.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    float
        In [-1, 1].

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> mcc([0, 1, 1, 1], [1, 1, 1, 1])
    0.0
    """
    return _one_metric(3)(y_true, y_pred, labels)


def cohen_kappa(y_true: Any, y_pred: Any, labels: Any | None = None) -> float:
    """Cohen's κ, agreement beyond chance; NaN when chance agreement is 1.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    float
        At most 1 (0 is chance agreement), or NaN.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> cohen_kappa([0, 0, 1, 1], [0, 0, 1, 0])
    0.5
    """
    return _one_metric(4)(y_true, y_pred, labels)


def classification_metrics(y_true: Any, y_pred: Any, labels: Any | None = None) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro F1, MCC and Cohen's κ.

    Parameters
    ----------
    y_true : array (n,)
        True labels.
    y_pred : array (n,)
        Predicted labels, aligned with ``y_true``.
    labels : array_like, optional
        Every possible label; default those seen in ``y_true`` or ``y_pred``.

    Returns
    -------
    dict of str to float
        Metric name (``accuracy``, ``balanced_accuracy``, ``macro_f1``, ``mcc``,
        ``cohen_kappa``) to value.

    Raises
    ------
    ValueError
        If the arrays are empty, differ in length, hold NaN or labels outside ``labels``.

    Examples
    --------
    >>> classification_metrics([0, 0, 1, 1], [0, 0, 1, 0])
    {'accuracy': 0.75, 'balanced_accuracy': 0.75, 'macro_f1': 0.7333333333333334, 'mcc': 0.5773502691896258, 'cohen_kappa': 0.5}
    """
    ct, cp, lab = _class_pair(y_true, y_pred, labels)
    vec = _metrics_from_confusion(_confusion(ct, cp, len(lab)))
    return dict(zip(_CLASSIFICATION_METRICS, vec.tolist(), strict=True))


def class_balance(y: Any, labels: Any | None = None) -> pd.DataFrame:
    """Count and share of each label.

    Parameters
    ----------
    y : array (n,)
        Labels.
    labels : array_like, optional
        Every possible label (absent ones count 0); default those seen in ``y``.

    Returns
    -------
    pandas.DataFrame
        Index ``label``; columns ``count`` (int) and ``fraction``.

    Raises
    ------
    ValueError
        If ``y`` is empty or holds labels outside ``labels``.

    Examples
    --------
    >>> class_balance([-1, 1, 1, 0])  # doctest: +NORMALIZE_WHITESPACE
           count  fraction
    label
    -1         1      0.25
     0         1      0.25
     1         2      0.50
    """
    y_arr = _array_1d("y", y)
    if y_arr.size == 0:
        raise ValueError("y is empty")
    lab = np.unique(y_arr) if labels is None else np.unique(np.asarray(labels))
    counts = np.bincount(_encode(lab, "y", y_arr), minlength=len(lab))
    return pd.DataFrame(
        {"count": counts, "fraction": counts / counts.sum()}, index=pd.Index(lab, name="label")
    )
