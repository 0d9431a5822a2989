"""Training-only normalisation.

:func:`scaled_pipeline` puts the scaler inside a scikit-learn ``Pipeline``;
:func:`fit_predict_fold` and :func:`walk_forward_predict` clone, wrap and fit it on the training
rows of each fold and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from lobutils.evaluation._checks import (
    _array_1d,
    _indices,
)
from lobutils.evaluation.splits import Fold

__all__ = [
    "ClippedStandardScaler",
    "FoldResult",
    "fit_predict_fold",
    "scaled_pipeline",
    "walk_forward_predict",
]


class ClippedStandardScaler(TransformerMixin, BaseEstimator):
    """Standardise with training mean and std, then clip to ``+-clip`` training standard deviations.

    Order-book features can be nearly constant over a training window (a one-tick spread for
    an hour) and then move in the test window; a plain ``StandardScaler`` turns that move into
    a z-score of 1e6 and a linear model's prediction explodes. Here a feature whose training
    std is below ``rel_tol x (|mean| + 1)`` is treated as constant (mapped to 0), and every
    other feature is clipped at ``clip`` standard deviations. All statistics come from the rows
    passed to :meth:`fit`, i.e. the training rows.

    Parameters
    ----------
    clip : float
        Bound on the absolute z-score, in training standard deviations.
    rel_tol : float
        A training std below ``rel_tol x (|mean| + 1)`` marks a feature constant.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0 + 1e-12]])
    >>> sc = ClippedStandardScaler(clip=3.0).fit(X)
    >>> sc.transform(np.array([[2.0, 6.0], [100.0, 5.0]])).tolist()
    [[0.0, 0.0], [3.0, 0.0]]
    """

    def __init__(self, clip: float = 10.0, rel_tol: float = 1e-9) -> None:
        self.clip = clip
        self.rel_tol = rel_tol

    def fit(self, X: Any, y: Any = None) -> ClippedStandardScaler:
        """Learn each feature's mean and std from the training rows (NaN ignored).

        Parameters
        ----------
        X : array (n, p)
            Training rows only.
        y : None
            Ignored (scikit-learn's signature).

        Returns
        -------
        ClippedStandardScaler
            ``self``, fitted.

        Raises
        ------
        ValueError
            If ``clip`` is not positive.
        """
        if not self.clip > 0:
            raise ValueError(f"clip must be positive, got {self.clip!r}")
        a = np.asarray(X, dtype=np.float64)
        self.mean_ = np.nanmean(a, axis=0)
        std = np.nanstd(a, axis=0)
        self.constant_ = ~(std > self.rel_tol * (np.abs(self.mean_) + 1.0))
        self.scale_ = np.where(self.constant_, 1.0, std)
        self.n_features_in_ = a.shape[1]
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Standardise with the training statistics and clip; constant features become 0.

        Parameters
        ----------
        X : array (n, p)
            Rows to transform, the features in the fitted order.

        Returns
        -------
        numpy.ndarray
            float64 z-scores in ``[-clip, clip]``.

        Raises
        ------
        ValueError
            If the number of features differs from the fit's.
        """
        a = np.asarray(X, dtype=np.float64)
        if a.shape[1] != self.n_features_in_:
            raise ValueError(f"fitted on {self.n_features_in_} features, got {a.shape[1]}")
        z = np.clip((a - self.mean_) / self.scale_, -self.clip, self.clip)
        z[:, self.constant_] = 0.0
        return z


def scaled_pipeline(estimator: Any, scaler: str | Any | None = "standard") -> Any:
    """A scikit-learn ``Pipeline`` with the scaler in front of the model.

    Fitting the pipeline fits the scaler on exactly the rows the model is fitted on, so test
    statistics never reach the scaler. An estimator that already is a ``Pipeline`` is returned
    unchanged (it is trusted to hold its own preprocessing).

    Parameters
    ----------
    estimator : scikit-learn estimator
        The model (not cloned here).
    scaler : {"standard", "robust", "clipped"}, transformer or None
        ``"clipped"`` is :class:`ClippedStandardScaler`; ``None`` returns ``estimator``
        unwrapped (e.g. for trees, which do not need scaling).

    Returns
    -------
    sklearn.pipeline.Pipeline or estimator
        ``Pipeline([("scaler", ...), ("model", estimator)])``, or ``estimator`` itself (see
        above).

    Raises
    ------
    ValueError
        If ``scaler`` is an unknown name or lacks ``fit``/``transform``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> scaled_pipeline(LogisticRegression()).steps[0][0]
    'scaler'
    """
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import RobustScaler, StandardScaler

    if isinstance(estimator, Pipeline) or scaler is None:
        return estimator
    if isinstance(scaler, str):
        makers = {
            "standard": StandardScaler,
            "robust": RobustScaler,
            "clipped": ClippedStandardScaler,
        }
        if scaler not in makers:
            raise ValueError(
                "scaler must be 'standard', 'robust', 'clipped', a transformer or None, "
                f"got {scaler!r}"
            )
        scaler_obj = makers[scaler]()
    else:
        if not (hasattr(scaler, "fit") and hasattr(scaler, "transform")):
            raise ValueError("scaler must have fit and transform methods")
        scaler_obj = clone(scaler)
    return Pipeline([("scaler", scaler_obj), ("model", estimator)])


@dataclass(frozen=True)
class FoldResult:
    """Out-of-sample predictions of one fold and the estimator fitted on its training rows.

    Parameters
    ----------
    test : numpy.ndarray
        Test row indices, sorted.
    y_pred : numpy.ndarray
        Predictions of the test rows.
    proba : numpy.ndarray or None
        Class probabilities of the test rows, columns in ``classes`` order (with ``proba=True``).
    classes : numpy.ndarray or None
        Class labels of the fitted classifier.
    estimator : object
        The pipeline fitted on the fold's training rows only.
    """

    test: np.ndarray = field(repr=False)
    y_pred: np.ndarray = field(repr=False)
    proba: np.ndarray | None = field(repr=False)
    classes: np.ndarray | None
    estimator: Any = field(repr=False)


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[idx]


def fit_predict_fold(
    estimator: Any,
    X: Any,
    y: Any,
    fold: Fold | tuple[Any, Any],
    *,
    scaler: str | Any | None = "standard",
    proba: bool = False,
) -> FoldResult:
    """Clone, wrap in :func:`scaled_pipeline`, fit on the training rows, predict the test rows.

    This is the only place a model is fitted in the protocol. It refuses folds whose training
    rows do not all precede their test rows.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Not modified; a fresh clone is fitted.
    X : array (n, p) or DataFrame
        Features of every row.
    y : array (n,)
        Targets of every row; the fold's rows must be finite.
    fold : Fold or (train, test)
        Row indices; every training row before every test row.
    scaler : see :func:`scaled_pipeline`
        Fitted on the training rows only.
    proba : bool
        Also return ``predict_proba`` (classifiers).

    Returns
    -------
    FoldResult
        Test rows, their predictions (and probabilities) and the fitted pipeline.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(8.0).reshape(-1, 1); y = 2 * X[:, 0]
    >>> r = fit_predict_fold(LinearRegression(), X, y, Fold(np.arange(6), np.arange(6, 8)))
    >>> np.round(r.y_pred, 6).tolist(), r.estimator.named_steps["scaler"].mean_.tolist()
    ([12.0, 14.0], [2.5])
    """
    from sklearn.base import clone

    train, test = fold
    y_arr = _array_1d("y", y)
    n = len(y_arr)
    if len(X) != n:
        raise ValueError(f"X has {len(X)} rows, y has {n}")
    tr = _indices("train", train, n)
    te = _indices("test", test, n)
    if tr.size == 0 or te.size == 0:
        raise ValueError("a fold needs at least one training and one test row")
    if tr[-1] >= te[0]:
        raise ValueError(
            "training rows must all precede test rows (chronological splits only); "
            "build folds with walk_forward_splits, day_splits or train_val_test_split"
        )
    if y_arr.dtype.kind == "f" and not np.all(np.isfinite(y_arr[np.r_[tr, te]])):
        raise ValueError("y has NaN targets in this fold; drop rows without a target first")
    model = scaled_pipeline(clone(estimator), scaler)
    model.fit(_take(X, tr), y_arr[tr])
    X_test = _take(X, te)
    y_pred = np.asarray(model.predict(X_test))
    p = classes = None
    if proba:
        p = np.asarray(model.predict_proba(X_test))
        classes = np.asarray(model.classes_)
    return FoldResult(te, y_pred, p, classes, model)


def walk_forward_predict(
    estimator: Any,
    X: Any,
    y: Any,
    folds: Sequence[Fold],
    *,
    scaler: str | Any | None = "standard",
    proba: bool = False,
) -> pd.DataFrame:
    """Pooled out-of-sample predictions over folds, via :func:`fit_predict_fold`.

    Parameters
    ----------
    estimator : scikit-learn estimator
        Not modified; each fold fits a fresh clone.
    X : array (n, p) or DataFrame
        Features.
    y : array (n,)
        Targets.
    folds : sequence of Fold
        Chronological folds (training rows before test rows).
    scaler : str, transformer or None
        See :func:`scaled_pipeline`; fitted on each fold's training rows only.
    proba : bool
        Also return class probabilities (classifiers).

    Returns
    -------
    pandas.DataFrame
        Columns ``row``, ``fold``, ``y_true``, ``y_pred`` and, with ``proba``, one
        ``proba_<class>`` column per class; in fold order.

    Raises
    ------
    ValueError
        If no folds are given, or a fold is not chronological (see :func:`fit_predict_fold`).

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> X = np.arange(10.0).reshape(-1, 1); y = X[:, 0] + 1
    >>> from lobutils.evaluation.splits import WalkForwardConfig, walk_forward_splits
    >>> folds = walk_forward_splits(10, WalkForwardConfig(n_splits=2, test_size=2), horizon=1)
    >>> walk_forward_predict(LinearRegression(), X, y, folds).round(6)
       row  fold  y_true  y_pred
    0    6     0     7.0     7.0
    1    7     0     8.0     8.0
    2    8     1     9.0     9.0
    3    9     1    10.0    10.0
    """
    y_arr = _array_1d("y", y)
    parts = []
    for k, fold in enumerate(folds):
        r = fit_predict_fold(estimator, X, y_arr, fold, scaler=scaler, proba=proba)
        part = {"row": r.test, "fold": np.full(r.test.size, k), "y_true": y_arr[r.test]}
        part["y_pred"] = r.y_pred
        if proba and r.proba is not None and r.classes is not None:
            for j, c in enumerate(r.classes):
                part[f"proba_{c}"] = r.proba[:, j]
        parts.append(pd.DataFrame(part))
    if not parts:
        raise ValueError("no folds given")
    return pd.concat(parts, ignore_index=True)
