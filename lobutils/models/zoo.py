"""The classical model zoo, tuned on validation rows and scored out of sample with CIs.

Six model families, each in a regression and a classification variant, built from a frozen
dataclass config with sensible defaults and a small hyperparameter grid:

- :class:`LinearConfig`: ``Ridge`` / ``LogisticRegression`` (scaled);
- :class:`TreeConfig`: ``DecisionTreeRegressor`` / ``DecisionTreeClassifier``;
- :class:`ForestConfig`: ``RandomForestRegressor`` / ``RandomForestClassifier``;
- :class:`XGBConfig`: ``XGBRegressor`` / ``XGBClassifier``;
- :class:`SVMConfig`: ``SVR`` / ``SVC`` on at most ``max_train_rows`` rows (scaled);
- :class:`MLPConfig`: ``MLPRegressor`` / ``MLPClassifier`` (scaled).

``config.build(task)`` returns the scikit-learn estimator; the scaler is added by
:func:`lobutils.evaluation.scaled_pipeline` when the model is fitted, so it only ever sees the
rows the model is fitted on.

The protocol, per (segment, target, horizon)
--------------------------------------------
1. :func:`make_task` keeps the rows with finite features and a target, and cuts them by time
   into train / validation / test (:func:`lobutils.evaluation.train_val_test_split`, purged
   with each row's ``target_end``). Label thresholds (the 3-class ``k x std``) are fitted on
   the training rows only.
2. :func:`tune` fits every grid point on the training rows and scores it on the validation
   rows; nothing else is seen.
3. :func:`fit_final` refits the chosen config on train + validation (purged against the test
   block) and predicts the test block.
4. :func:`evaluate_task` scores every model next to the naive baselines with block-bootstrap CIs
   (:func:`lobutils.evaluation.results_table`), computes the P&L net of costs, permutation
   importance on the test block and XGBoost's gain.

:func:`run_zoo` runs this over datasets, targets and horizons and collects one tidy
:class:`ZooResult`; :func:`save_results` writes it to a report directory with the headline
numbers in ``metrics.json``.

Targets
-------
``"return"``: the forward mid return in bps (regression). ``"three_class"``: down / flat / up
with a ``k x std`` threshold fitted on training rows. ``"binary"``: up / down; with
``binary_no_change="drop"`` (the default, as in most papers) rows whose price does not move are
left out, which conditions on the future: its accuracy describes moving rows only.
``"bid"``, ``"ask"``, ``"mid"``: the future level-1 state (best bid, best ask, mid), as the
change in bps from the current value, against the persistence baseline (no change).

Examples
--------
Tiny synthetic data (labelled synthetic): 300 rows with one informative feature.

>>> rng = np.random.default_rng(0)
>>> X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
>>> y = 2.0 * X["a"].to_numpy() + rng.normal(scale=0.5, size=300)
>>> split = ev.train_val_test_split(300, horizon=1)
>>> res = tune(LinearConfig(), "regression", X, y, split)
>>> res.best.alpha, res.scores.shape[0]
(1.0, 4)
>>> fit = fit_final(res.best, "regression", X, y, split)
>>> round(ev.r2(y[split.test], fit.y_pred), 2)
0.97
"""

from __future__ import annotations

import itertools
import json
import math
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, MetaEstimatorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import get_tags
from sklearn.utils.metaestimators import available_if

from lobutils import evaluation as ev
from lobutils.features import targets as _targets
from lobutils.features.dataset import Dataset
from lobutils.markets import fees_bps
from lobutils.report import fmt_ci

__all__ = [
    "CLASSIFICATION_TARGETS",
    "DEFAULT_TUNE_METRIC",
    "L1_TARGETS",
    "MODEL_CONFIGS",
    "PRIMARY_METRIC",
    "TARGETS",
    "EncodedClassifier",
    "FittedModel",
    "ForestConfig",
    "LinearConfig",
    "MLPConfig",
    "ModelConfig",
    "SVMConfig",
    "Subsample",
    "TaskData",
    "TreeConfig",
    "TuneResult",
    "XGBConfig",
    "ZooConfig",
    "ZooResult",
    "default_models",
    "describe_models",
    "evaluate_task",
    "fit_final",
    "grid_table",
    "headline_metrics",
    "make_models",
    "make_task",
    "permutation_importance_frame",
    "primary_view",
    "run_zoo",
    "save_results",
    "task_of",
    "tune",
    "unwrap",
    "best_models",
    "ci_pivot",
    "claim_table",
    "pnl_summary",
    "pnl_table",
    "split_table",
    "verdict_pivot",
    "verdicts",
    "wide_band_claim",
    "xgb_gain",
]

Task = Literal["regression", "classification"]

TARGETS: tuple[str, ...] = ("return", "binary", "three_class", "bid", "ask", "mid")
"""Target types :func:`make_task` knows."""

CLASSIFICATION_TARGETS: tuple[str, ...] = ("binary", "three_class")
L1_TARGETS: tuple[str, ...] = ("bid", "ask", "mid")
"""The future level-1 states (best bid, best ask, mid), as changes in bps from the current value."""

DEFAULT_TUNE_METRIC: Mapping[str, str] = {
    "regression": "mse",
    "classification": "balanced_accuracy",
}
"""Validation metric of :func:`tune`, per task."""

PRIMARY_METRIC: Mapping[str, str] = {"regression": "r2_oos", "classification": "balanced_accuracy"}
"""Headline metric of :func:`headline_metrics`: R² against the zero forecast, and balanced
accuracy (chance is 1 / number of classes, whatever the class balance)."""

_METRIC_FUNCS = {
    "mse": ev.mse,
    "mae": ev.mae,
    "r2": ev.r2,
    "r2_oos": ev.r2_oos,
    "pearson": ev.pearson,
    "spearman": ev.spearman,
    "accuracy": ev.accuracy,
    "balanced_accuracy": ev.balanced_accuracy,
    "macro_f1": ev.macro_f1,
    "mcc": ev.mcc,
    "cohen_kappa": ev.cohen_kappa,
}
_SK_SCORING = {
    "mse": "neg_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "r2": "r2",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "macro_f1": "f1_macro",
    "mcc": "matthews_corrcoef",
}


def task_of(target: str) -> Task:
    """``"classification"`` for label targets, ``"regression"`` for the others.

    Parameters
    ----------
    target : str
        One of :data:`TARGETS`.

    Returns
    -------
    str
        ``"classification"`` or ``"regression"``.

    Raises
    ------
    ValueError
        For an unknown target.

    Examples
    --------
    >>> task_of("three_class"), task_of("bid")
    ('classification', 'regression')
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; choose from {TARGETS}")
    return "classification" if target in CLASSIFICATION_TARGETS else "regression"


def _check_task(task: str) -> None:
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")


# --------------------------------------------------------------------------------------
# wrappers
# --------------------------------------------------------------------------------------


def _take(X: Any, idx: np.ndarray) -> Any:
    return X.iloc[idx] if isinstance(X, pd.DataFrame | pd.Series) else np.asarray(X)[idx]


def _inner_has(name: str):
    def check(self: Any) -> bool:
        return hasattr(self.estimator, name)

    return check


class Subsample(MetaEstimatorMixin, BaseEstimator):
    """Fit ``estimator`` on at most ``max_rows`` evenly spaced rows of the training data.

    For models whose fit time grows faster than linearly (kernel SVMs). Evenly spaced rows keep
    the whole training period; the rows dropped are never used for anything else.

    Parameters
    ----------
    estimator : scikit-learn estimator
        The model; a clone is fitted.
    max_rows : int or None
        Largest number of training rows; None fits on every row.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> m = Subsample(LinearRegression(), max_rows=10).fit(np.arange(100.0)[:, None], np.arange(100.0))
    >>> m.n_fit_rows_, round(float(m.predict([[200.0]])[0]), 6)
    (10, 200.0)
    """

    def __init__(self, estimator: Any, max_rows: int | None = None) -> None:
        self.estimator = estimator
        self.max_rows = max_rows

    def fit(self, X: Any, y: Any) -> Subsample:
        """Fit a clone of ``estimator`` on at most ``max_rows`` evenly spaced rows.

        Parameters
        ----------
        X : DataFrame or array (n, p)
            Training features (training rows only).
        y : array (n,)
            Training targets.

        Returns
        -------
        Subsample
            ``self``, fitted.
        """
        y_arr = np.asarray(y)
        n = len(y_arr)
        if self.max_rows is not None and n > self.max_rows:
            idx = np.unique(np.linspace(0, n - 1, int(self.max_rows)).round().astype(np.int64))
        else:
            idx = np.arange(n)
        self.estimator_ = clone(self.estimator).fit(_take(X, idx), y_arr[idx])
        self.n_fit_rows_ = int(idx.size)
        if hasattr(self.estimator_, "classes_"):
            self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions of the fitted estimator.

        Parameters
        ----------
        X : DataFrame or array (m, p)
            Rows to predict.

        Returns
        -------
        numpy.ndarray
            One prediction per row.
        """
        return self.estimator_.predict(X)

    @available_if(_inner_has("predict_proba"))
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted classifier.

        Parameters
        ----------
        X : DataFrame or array (m, p)
            Rows to predict.

        Returns
        -------
        numpy.ndarray
            Shape ``(m, k)``, columns in ``classes_`` order.
        """
        return self.estimator_.predict_proba(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self.estimator)
        tags.estimator_type = inner.estimator_type
        tags.classifier_tags = inner.classifier_tags
        tags.regressor_tags = inner.regressor_tags
        return tags


class EncodedClassifier(ClassifierMixin, MetaEstimatorMixin, BaseEstimator):
    """A classifier fitted on the codes ``0..k-1`` of the labels present in its training rows.

    XGBoost wants consecutive class codes from 0; a training block that lacks a class (a
    3-class label with no "down" move in it) breaks that. This wrapper encodes the labels it is
    fitted on and decodes its predictions, so ``classes_`` holds the original labels.

    Parameters
    ----------
    estimator : scikit-learn classifier
        The model; a clone is fitted on the codes.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> m = EncodedClassifier(LogisticRegression()).fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 2, 2])
    >>> m.classes_.tolist(), m.predict([[0.0], [3.0]]).tolist()
    ([0, 2], [0, 2])
    """

    def __init__(self, estimator: Any) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> EncodedClassifier:
        """Fit a clone of ``estimator`` on the codes ``0..k-1`` of the labels in ``y``.

        Parameters
        ----------
        X : DataFrame or array (n, p)
            Training features (training rows only).
        y : array (n,)
            Training labels (any sortable values).

        Returns
        -------
        EncodedClassifier
            ``self``, fitted.
        """
        self.classes_, codes = np.unique(np.asarray(y), return_inverse=True)
        self.estimator_ = clone(self.estimator).fit(X, codes)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels, decoded to the original ones.

        Parameters
        ----------
        X : DataFrame or array (m, p)
            Rows to predict.

        Returns
        -------
        numpy.ndarray
            One label of ``classes_`` per row.
        """
        codes = np.asarray(self.estimator_.predict(X)).astype(np.int64).ravel()
        return self.classes_[codes]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the inner classifier.

        Parameters
        ----------
        X : DataFrame or array (m, p)
            Rows to predict.

        Returns
        -------
        numpy.ndarray
            Shape ``(m, k)``, columns in ``classes_`` order.
        """
        return np.asarray(self.estimator_.predict_proba(X))


def unwrap(estimator: Any) -> Any:
    """The model inside a ``Pipeline``, :class:`Subsample` or :class:`EncodedClassifier`.

    Parameters
    ----------
    estimator : object
        A fitted or unfitted estimator, possibly wrapped several times.

    Returns
    -------
    object
        The innermost model (its fitted clone when there is one).

    Examples
    --------
    >>> from sklearn.linear_model import Ridge
    >>> type(unwrap(ev.scaled_pipeline(Subsample(Ridge())))).__name__
    'Ridge'
    """
    from sklearn.pipeline import Pipeline

    est = estimator
    while True:
        if isinstance(est, Pipeline):
            est = est.steps[-1][1]
        elif isinstance(est, Subsample | EncodedClassifier):
            est = getattr(est, "estimator_", est.estimator)
        else:
            return est


# --------------------------------------------------------------------------------------
# configs
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelConfig:
    """Base of the model configs: a grid of hyperparameters and a seed.

    Subclasses add the model's hyperparameters as fields with defaults and implement
    :meth:`build`. ``grid`` maps field names to the values :func:`tune` tries (given as a dict;
    stored as a tuple of ``(name, values)`` pairs so that the config stays hashable). Grid
    fields named in ``classification_only`` (``class_weight``) are not searched for regression.

    Class attributes: ``name`` (the model's name in the results), ``scaler`` (passed to
    :func:`lobutils.evaluation.scaled_pipeline`: ``"clipped"``, the training-statistics
    z-score clipped at 10 std so a feature that was flat in training cannot explode a linear
    model's test predictions, or None for trees).

    Parameters
    ----------
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.
    """

    name: ClassVar[str] = "model"
    scaler: ClassVar[str | None] = "clipped"
    classification_only: ClassVar[frozenset[str]] = frozenset({"class_weight"})

    grid: Any = ()
    seed: int = 0

    def __post_init__(self) -> None:
        items = self.grid.items() if isinstance(self.grid, Mapping) else self.grid
        names = {f.name for f in fields(self)} - {"grid"}
        norm = []
        for pair in items:
            key, values = pair
            if key not in names:
                raise ValueError(
                    f"{type(self).__name__}: grid names {key!r}, which is not one of its "
                    f"fields {sorted(names)}"
                )
            vals = tuple(values)
            if not vals:
                raise ValueError(f"{type(self).__name__}: grid values of {key!r} are empty")
            norm.append((str(key), vals))
        object.__setattr__(self, "grid", tuple(norm))
        if not isinstance(self.seed, int | np.integer) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")

    def build(self, task: Task) -> Any:
        """The unfitted scikit-learn estimator for ``task``.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            A scikit-learn estimator.
        """
        raise NotImplementedError

    def search_space(self, task: Task) -> dict[str, tuple]:
        """The grid that applies to ``task``.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        dict of str to tuple
            Field name to the values tried (``classification_only`` fields dropped for regression).
        """
        _check_task(task)
        return {
            k: v
            for k, v in self.grid
            if task == "classification" or k not in self.classification_only
        }

    def candidates(self, task: Task) -> list[ModelConfig]:
        """One config per grid point (``[self]`` when the grid is empty), in grid order.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        list of ModelConfig
            Copies of this config, one per grid point.

        Examples
        --------
        >>> [c.max_depth for c in TreeConfig(grid={"max_depth": (2, 4)}).candidates("regression")]
        [2, 4]
        """
        space = self.search_space(task)
        if not space:
            return [self]
        keys = list(space)
        return [
            replace(self, **dict(zip(keys, combo, strict=True)))
            for combo in itertools.product(*space.values())
        ]

    def tuned_params(self, task: Task) -> dict[str, Any]:
        """The values of the searched fields (what :func:`tune` chose).

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        dict of str to object
            Searched field name to its value in this config.
        """
        return {k: getattr(self, k) for k in self.search_space(task)}

    def params(self) -> dict[str, Any]:
        """Every hyperparameter (all fields except the grid).

        Returns
        -------
        dict of str to object
            Field name to value.
        """
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "grid"}


@dataclass(frozen=True)
class LinearConfig(ModelConfig):
    """Ridge regression, or L2-regularised logistic regression (``C = 1 / alpha``).

    Parameters
    ----------
    alpha : float
        L2 penalty (``C = 1 / alpha`` for the classifier).
    class_weight : {None, "balanced"}
        Class weights of the classifier.
    max_iter : int
        Iterations of the logistic solver.
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> LinearConfig(alpha=10.0).build("classification").C
    0.1
    """

    name: ClassVar[str] = "linear"
    alpha: float = 1.0
    class_weight: str | None = None
    max_iter: int = 1000
    grid: Any = (("alpha", (0.1, 1.0, 10.0, 100.0)), ("class_weight", (None, "balanced")))

    def build(self, task: Task) -> Any:
        """The unfitted ``Ridge`` or ``LogisticRegression``.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            A scikit-learn estimator (scaled when fitted: ``scaler`` is ``"clipped"``).

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from sklearn.linear_model import LogisticRegression, Ridge

        if task == "regression":
            return Ridge(alpha=self.alpha)
        return LogisticRegression(
            C=1.0 / self.alpha, class_weight=self.class_weight, max_iter=self.max_iter
        )


@dataclass(frozen=True)
class TreeConfig(ModelConfig):
    """A single decision tree (CART), shallow by default.

    Parameters
    ----------
    max_depth : int or None
        Depth of the tree.
    min_samples_leaf : int
        Fewest training rows per leaf.
    class_weight : {None, "balanced"}
        Class weights of the classifier.
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> TreeConfig().build("regression").max_depth
    4
    """

    name: ClassVar[str] = "tree"
    scaler: ClassVar[str | None] = None
    max_depth: int | None = 4
    min_samples_leaf: int = 20
    class_weight: str | None = None
    grid: Any = (("max_depth", (2, 4, 6)), ("class_weight", (None, "balanced")))

    def build(self, task: Task) -> Any:
        """The unfitted decision tree.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            ``DecisionTreeRegressor`` or ``DecisionTreeClassifier``, seeded.

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

        kw = dict(
            max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf, random_state=self.seed
        )
        if task == "regression":
            return DecisionTreeRegressor(**kw)
        return DecisionTreeClassifier(class_weight=self.class_weight, **kw)


@dataclass(frozen=True)
class ForestConfig(ModelConfig):
    """A random forest (Breiman 2001); ``n_jobs`` small, seeded.

    Parameters
    ----------
    n_estimators : int
        Trees.
    max_depth : int or None
        Depth of each tree.
    min_samples_leaf : int
        Fewest training rows per leaf.
    max_features : str, float or None
        Features tried at each split.
    class_weight : {None, "balanced"}
        Class weights of the classifier.
    n_jobs : int
        Parallel fits.
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> ForestConfig().build("classification").n_estimators
    150
    """

    name: ClassVar[str] = "forest"
    scaler: ClassVar[str | None] = None
    n_estimators: int = 150
    max_depth: int | None = 6
    min_samples_leaf: int = 10
    max_features: str | float | None = "sqrt"
    class_weight: str | None = None
    n_jobs: int = 1
    grid: Any = (("max_depth", (3, 6)), ("class_weight", (None, "balanced")))

    def build(self, task: Task) -> Any:
        """The unfitted random forest.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            ``RandomForestRegressor`` or ``RandomForestClassifier``, seeded.

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        kw = dict(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            n_jobs=self.n_jobs,
            random_state=self.seed,
        )
        if task == "regression":
            return RandomForestRegressor(**kw)
        return RandomForestClassifier(class_weight=self.class_weight, **kw)


@dataclass(frozen=True)
class XGBConfig(ModelConfig):
    """Gradient-boosted trees with XGBoost (Chen & Guestrin 2016), ``hist`` method, seeded.

    The classifier is wrapped in :class:`EncodedClassifier`, so a training block that lacks a
    class still fits.

    Parameters
    ----------
    n_estimators : int
        Boosting rounds.
    max_depth : int
        Depth of each tree.
    learning_rate : float
        Shrinkage of each round.
    subsample, colsample_bytree : float
        Share of rows and of features used per tree.
    min_child_weight : float
        Least Hessian weight per leaf.
    reg_lambda : float
        L2 penalty on the leaf weights.
    n_jobs : int
        Threads.
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> XGBConfig().build("regression").get_params()["max_depth"]
    3
    """

    name: ClassVar[str] = "xgboost"
    scaler: ClassVar[str | None] = None
    n_estimators: int = 150
    max_depth: int = 3
    learning_rate: float = 0.05
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    min_child_weight: float = 5.0
    reg_lambda: float = 1.0
    n_jobs: int = 1
    grid: Any = (("max_depth", (2, 4)), ("n_estimators", (50, 150)))

    def build(self, task: Task) -> Any:
        """The unfitted XGBoost model.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            ``XGBRegressor``, or ``XGBClassifier`` inside :class:`EncodedClassifier`.

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from xgboost import XGBClassifier, XGBRegressor

        kw = dict(
            n_estimators=self.n_estimators,
            max_depth=self.max_depth,
            learning_rate=self.learning_rate,
            subsample=self.subsample,
            colsample_bytree=self.colsample_bytree,
            min_child_weight=self.min_child_weight,
            reg_lambda=self.reg_lambda,
            n_jobs=self.n_jobs,
            random_state=self.seed,
            tree_method="hist",
            verbosity=0,
        )
        if task == "regression":
            return XGBRegressor(**kw)
        return EncodedClassifier(XGBClassifier(**kw))


@dataclass(frozen=True)
class SVMConfig(ModelConfig):
    """A kernel SVM: ``SVR`` or ``SVC``, on a subsample.

    Fit time grows about quadratically with the rows, so at most ``max_train_rows`` evenly
    spaced training rows are used (:class:`Subsample`); None uses them all. The classifier has
    no probabilities (Platt scaling would fit an inner, shuffled cross-validation), so its P&L
    trades the predicted class.

    Parameters
    ----------
    C : float
        Inverse regularisation strength.
    kernel : str
        scikit-learn kernel name (``"rbf"``).
    gamma : str or float
        Kernel coefficient.
    epsilon : float
        Width of the insensitive tube of ``SVR`` (in the target's units, bps for returns).
    class_weight : {None, "balanced"}
        Class weights of the classifier.
    max_train_rows : int or None
        Largest number of training rows (:class:`Subsample`).
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> SVMConfig(max_train_rows=500).build("classification").max_rows
    500
    """

    name: ClassVar[str] = "svm"
    C: float = 1.0
    kernel: str = "rbf"
    gamma: str | float = "scale"
    epsilon: float = 0.1
    class_weight: str | None = None
    max_train_rows: int | None = 3000
    grid: Any = (("C", (0.1, 1.0, 10.0)), ("class_weight", (None, "balanced")))

    def build(self, task: Task) -> Any:
        """The unfitted kernel SVM.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            ``SVR`` or ``SVC`` inside :class:`Subsample`.

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from sklearn.svm import SVC, SVR

        if task == "regression":
            est = SVR(C=self.C, kernel=self.kernel, gamma=self.gamma, epsilon=self.epsilon)
        else:
            est = SVC(
                C=self.C,
                kernel=self.kernel,
                gamma=self.gamma,
                class_weight=self.class_weight,
                random_state=self.seed,
            )
        return Subsample(est, self.max_train_rows)


@dataclass(frozen=True)
class MLPConfig(ModelConfig):
    """A small multilayer perceptron (scikit-learn, Adam), seeded, without early stopping.

    Early stopping would hold out a *random* tenth of the training rows, which is not a
    chronological split; the L2 penalty ``alpha`` is searched instead.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
        Units per hidden layer.
    alpha : float
        L2 penalty.
    learning_rate_init : float
        Adam's step size.
    max_iter : int
        Epochs.
    grid : dict or tuple of (str, tuple)
        Field name to the values :func:`tune` tries.
    seed : int
        Seed of the model's randomness, >= 0.

    Examples
    --------
    >>> MLPConfig().build("regression").hidden_layer_sizes
    (32, 16)
    """

    name: ClassVar[str] = "mlp"
    hidden_layer_sizes: tuple[int, ...] = (32, 16)
    alpha: float = 1e-2
    learning_rate_init: float = 1e-3
    max_iter: int = 300
    grid: Any = (("alpha", (1e-3, 1e-1, 1.0)),)

    def build(self, task: Task) -> Any:
        """The unfitted multilayer perceptron.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        object
            ``MLPRegressor`` or ``MLPClassifier``, seeded.

        Raises
        ------
        ValueError
            For another task.
        """
        _check_task(task)
        from sklearn.neural_network import MLPClassifier, MLPRegressor

        kw = dict(
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            alpha=self.alpha,
            learning_rate_init=self.learning_rate_init,
            max_iter=self.max_iter,
            random_state=self.seed,
        )
        if task == "regression":
            return MLPRegressor(**kw)
        return MLPClassifier(**kw)


MODEL_CONFIGS: Mapping[str, type[ModelConfig]] = {
    c.name: c for c in (LinearConfig, TreeConfig, ForestConfig, XGBConfig, SVMConfig, MLPConfig)
}
"""Model name -> config class."""


def default_models(seed: int = 0) -> tuple[ModelConfig, ...]:
    """Every model of the zoo with its default config.

    Parameters
    ----------
    seed : int
        Seed of every model.

    Returns
    -------
    tuple of ModelConfig
        One default config per entry of :data:`MODEL_CONFIGS`.

    Examples
    --------
    >>> [m.name for m in default_models()]
    ['linear', 'tree', 'forest', 'xgboost', 'svm', 'mlp']
    """
    return tuple(cls(seed=seed) for cls in MODEL_CONFIGS.values())


def make_models(names: Sequence[str] | None = None, seed: int = 0) -> tuple[ModelConfig, ...]:
    """Default configs of the named models (all when ``names`` is None), e.g. from a parameter.

    Parameters
    ----------
    names : sequence of str, optional
        Keys of :data:`MODEL_CONFIGS`.
    seed : int
        Seed of every model.

    Returns
    -------
    tuple of ModelConfig
        One default config per name, in the order given.

    Raises
    ------
    ValueError
        For an unknown name.

    Examples
    --------
    >>> [type(m).__name__ for m in make_models(["linear", "xgboost"])]
    ['LinearConfig', 'XGBConfig']
    """
    if names is None:
        return default_models(seed)
    unknown = [n for n in names if n not in MODEL_CONFIGS]
    if unknown:
        raise ValueError(f"unknown models {unknown}; choose from {list(MODEL_CONFIGS)}")
    return tuple(MODEL_CONFIGS[n](seed=seed) for n in names)


def describe_models(models: Sequence[ModelConfig]) -> pd.DataFrame:
    """One row per model: estimators, scaling, default hyperparameters and the search grid.

    Parameters
    ----------
    models : sequence of ModelConfig
        The configs.

    Returns
    -------
    pandas.DataFrame
        Index ``model``; columns ``regression`` and ``classification`` (estimator class names),
        ``scaled``, ``defaults`` and ``grid``.

    Examples
    --------
    >>> describe_models([TreeConfig()]).loc["tree", "classification"]
    'DecisionTreeClassifier'
    """
    rows = {}
    for m in models:
        names = {}
        for task in ("regression", "classification"):
            est = unwrap(m.build(task))
            names[task] = type(est).__name__
        rows[m.name] = {
            **names,
            "scaled": m.scaler is not None,
            "defaults": ", ".join(
                f"{k}={v!r}" for k, v in m.params().items() if k not in dict(m.grid)
            ),
            "grid": ", ".join(f"{k} in {list(v)}" for k, v in m.grid),
        }
    return pd.DataFrame(rows).T.rename_axis("model")


def grid_table(models: Sequence[ModelConfig]) -> pd.DataFrame:
    """The search grid of each model, one row per (model, hyperparameter): a narrow table.

    Parameters
    ----------
    models : sequence of ModelConfig
        The configs.

    Returns
    -------
    pandas.DataFrame
        Index (model, hyperparameter); column ``values`` (the values :func:`tune` tries;
        "classification only" marks fields that regression does not search).

    Examples
    --------
    >>> grid_table([LinearConfig()]).loc[("linear", "alpha"), "values"]
    '0.1, 1.0, 10.0, 100.0'
    """
    rows = [
        {
            "model": m.name,
            "hyperparameter": k,
            "values": ", ".join(str(v) for v in values)
            + (" (classification only)" if k in m.classification_only else ""),
        }
        for m in models
        for k, values in m.grid
    ]
    return pd.DataFrame(rows, columns=["model", "hyperparameter", "values"]).set_index(
        ["model", "hyperparameter"]
    )


# --------------------------------------------------------------------------------------
# tuning and fitting
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TuneResult:
    """The config chosen on the validation block, and every grid point's validation score.

    Parameters
    ----------
    best : ModelConfig
        The grid point with the best validation score.
    scores : pandas.DataFrame
        One row per grid point: ``model``, ``params``, ``score``, ``metric``, ``chosen``.
    """

    best: ModelConfig
    scores: pd.DataFrame


def _score(metric: str, y_true: np.ndarray, y_pred: np.ndarray, labels: Any | None) -> float:
    fn = _METRIC_FUNCS[metric]
    if metric in ("accuracy", "balanced_accuracy", "macro_f1", "mcc", "cohen_kappa"):
        return float(fn(y_true, y_pred, labels))
    return float(fn(y_true, y_pred))


def tune(
    config: ModelConfig,
    task: Task,
    X: Any,
    y: Any,
    split: ev.TrainValTest,
    *,
    metric: str | None = None,
    labels: Any | None = None,
) -> TuneResult:
    """Grid search on the validation block: fit on ``split.train``, score on ``split.val``.

    The test rows are never touched. Every fit goes through
    :func:`lobutils.evaluation.fit_predict_fold` (scaler inside the pipeline, chronological
    check). With a one-point grid nothing is fitted and the score is NaN. Ties go to the
    earlier grid point.

    Parameters
    ----------
    config : ModelConfig
        The model and its grid.
    task : {"regression", "classification"}
        Which variant.
    X : DataFrame or array (n, p)
        Features of every row of the split.
    y : array (n,)
        Targets.
    split : lobutils.evaluation.TrainValTest
        The chronological split; only its train and validation rows are used.
    metric : str, optional
        Default :data:`DEFAULT_TUNE_METRIC` of the task.
    labels : array, optional
        Class labels for the classification metrics.

    Returns
    -------
    TuneResult
        The chosen config and every grid point's validation score.
    """
    _check_task(task)
    metric = metric or DEFAULT_TUNE_METRIC[task]
    if metric not in _METRIC_FUNCS:
        raise ValueError(f"unknown metric {metric!r}; choose from {list(_METRIC_FUNCS)}")
    better = ev.GREATER_IS_BETTER[metric]
    y_arr = np.asarray(y)
    cands = config.candidates(task)
    rows = []
    if len(cands) == 1:
        rows.append({"params": _params_text(config, task), "score": math.nan})
        best_i = 0
    else:
        fold = ev.Fold(np.asarray(split.train), np.asarray(split.val))
        scores = []
        for c in cands:
            r = ev.fit_predict_fold(c.build(task), X, y_arr, fold, scaler=c.scaler)
            s = _score(metric, y_arr[fold.test], r.y_pred, labels)
            scores.append(s)
            rows.append({"params": _params_text(c, task), "score": s})
        key = np.array([s if np.isfinite(s) else (-np.inf if better else np.inf) for s in scores])
        best_i = int(np.argmax(key) if better else np.argmin(key))
    out = pd.DataFrame(rows)
    out.insert(0, "model", config.name)
    out["metric"] = metric
    out["chosen"] = np.arange(len(out)) == best_i
    return TuneResult(cands[best_i], out)


def _params_text(config: ModelConfig, task: Task) -> str:
    return json.dumps(config.tuned_params(task), default=str, sort_keys=True)


def fit_final(
    config: ModelConfig,
    task: Task,
    X: Any,
    y: Any,
    split: ev.TrainValTest,
    *,
    refit: Literal["train_val", "train"] = "train_val",
    proba: bool | None = None,
) -> ev.FoldResult:
    """Refit ``config`` on train (+ validation) and predict the test block.

    ``train_val_test_split`` purges the training and validation rows against the test block,
    so their union is clean. ``proba`` defaults to True for classifiers that have
    ``predict_proba``.

    Parameters
    ----------
    config : ModelConfig
        The config chosen by :func:`tune`.
    task : {"regression", "classification"}
        Which variant.
    X : DataFrame or array (n, p)
        Features of every row of the split.
    y : array (n,)
        Targets.
    split : lobutils.evaluation.TrainValTest
        The chronological, purged split.
    refit : {"train_val", "train"}
        Rows of the final fit.
    proba : bool, optional
        Also predict class probabilities.

    Returns
    -------
    lobutils.evaluation.FoldResult
        Test-block predictions and the fitted pipeline.

    Raises
    ------
    ValueError
        For an unknown task or ``refit``.
    """
    _check_task(task)
    if refit not in ("train_val", "train"):
        raise ValueError(f"refit must be 'train_val' or 'train', got {refit!r}")
    train = np.asarray(split.train)
    if refit == "train_val":
        train = np.union1d(train, np.asarray(split.val))
    est = config.build(task)
    if proba is None:
        proba = task == "classification" and hasattr(est, "predict_proba")
    return ev.fit_predict_fold(
        est,
        X,
        np.asarray(y),
        ev.Fold(train, np.asarray(split.test)),
        scaler=config.scaler,
        proba=proba,
    )


# --------------------------------------------------------------------------------------
# one task
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ZooConfig:
    """Everything :func:`run_zoo` and :func:`evaluate_task` need besides the data.

    Parameters
    ----------
    models : tuple of ModelConfig
        Default :func:`default_models`.
    targets : tuple of str
        From :data:`TARGETS`.
    horizons : tuple of int, optional
        A subset of each dataset's horizons (in its unit); default all.
    holdout : lobutils.evaluation.HoldoutConfig
        Train/validation/test fractions (by time) and embargo (ns).
    three_class_k : float
        The 3-class threshold is ``k x std`` of the training returns.
    binary_no_change : {"drop", "keep"}
        See :func:`lobutils.features.targets.binary_labels`.
    tune_metric_classification : str
        Validation metric of :func:`tune` for classifiers; regression models are tuned on
        :data:`DEFAULT_TUNE_METRIC` (MSE).
    refit : {"train_val", "train"}
        Rows of the final fit: train and validation, or train only.
    n_boot, confidence : int, float
        Block bootstrap of the CIs.
    min_block_rows : int
        Bootstrap blocks are ``max(horizon in rows, min_block_rows)`` rows (at most the test
        block), so overlapping targets and autocorrelated errors stay together.
    fee_bps : float, optional
        Taker fee per side; default the market's (:func:`lobutils.markets.fees_bps`).
    pnl_threshold_bps : float
        A regression forecast trades when ``|forecast|`` exceeds this.
    importance_repeats : int
        Permutation-importance repeats on the test block; 0 turns it off.
    importance_models : tuple of str, optional
        Models to compute permutation importance for; default all.
    seed : int
        Seed of the bootstrap, the baselines and the permutations.
    """

    models: tuple[ModelConfig, ...] = field(default_factory=default_models)
    targets: tuple[str, ...] = ("return", "three_class")
    horizons: tuple[int, ...] | None = None
    holdout: ev.HoldoutConfig = ev.HoldoutConfig()
    three_class_k: float = 1.0
    binary_no_change: Literal["drop", "keep"] = "drop"
    tune_metric_classification: str = DEFAULT_TUNE_METRIC["classification"]
    refit: Literal["train_val", "train"] = "train_val"
    n_boot: int = 500
    confidence: float = 0.95
    min_block_rows: int = 10
    fee_bps: float | None = None
    pnl_threshold_bps: float = 0.0
    importance_repeats: int = 5
    importance_models: tuple[str, ...] | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "models", tuple(self.models))
        object.__setattr__(self, "targets", tuple(self.targets))
        if not self.models:
            raise ValueError("models is empty")
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ValueError(f"model names must be unique, got {names}")
        for t in self.targets:
            task_of(t)
        if self.horizons is not None:
            object.__setattr__(self, "horizons", tuple(int(h) for h in self.horizons))
        if self.tune_metric_classification not in _METRIC_FUNCS:
            raise ValueError(f"unknown metric {self.tune_metric_classification!r}")
        if self.binary_no_change not in ("drop", "keep"):
            raise ValueError("binary_no_change must be 'drop' or 'keep'")
        ev.BootstrapConfig(block_length=1, n_boot=self.n_boot, confidence=self.confidence)

    def tune_metric(self, task: Task) -> str:
        """The validation metric of :func:`tune` for ``task``.

        Parameters
        ----------
        task : {"regression", "classification"}
            Which variant.

        Returns
        -------
        str
            A metric name of :data:`lobutils.evaluation.GREATER_IS_BETTER`.

        Examples
        --------
        >>> ZooConfig(tune_metric_classification="accuracy").tune_metric("regression")
        'mse'
        """
        if task == "regression":
            return DEFAULT_TUNE_METRIC["regression"]
        return self.tune_metric_classification


@dataclass(frozen=True, eq=False)
class TaskData:
    """One (segment, target, horizon) modelling problem, split by time.

    Arrays have one entry per kept row; ``rows`` maps them back to the dataset's rows, and
    ``X`` keeps the dataset's row numbers as its index. ``split`` holds positions into these
    arrays.

    Attributes
    ----------
    segment, market, symbol : str
        The segment (``"usdm_btcusdt"``, ``"usdm"``, ``"btcusdt"``).
    target : str
        From :data:`TARGETS`.
    task : {"regression", "classification"}
        Which kind of model.
    horizon : str
        The horizon label (``"10s"``).
    horizon_value : int
        The horizon in ``unit``.
    unit : {"s", "events"}
        Unit of the horizon.
    horizon_rows : int
        Rows spanned by one target.
    rows : numpy.ndarray
        The dataset's row of each kept row.
    X : pandas.DataFrame
        Features (past-only), indexed by the dataset's rows.
    y : numpy.ndarray
        Target values (bps) or class codes ``0..k-1``.
    returns : numpy.ndarray
        The forward mid return (bps) of each row: what a trade earns before costs.
    spread_bps : numpy.ndarray
        Quoted spread at each row, bps of the mid.
    ts, target_end : numpy.ndarray of int64
        Row time and the time its target is realised (ns).
    split : lobutils.evaluation.TrainValTest
        Positions of the train, validation and test rows (purged).
    classes : tuple of str or None
        Class names (classification).
    directions : tuple of int or None
        Trade direction of each class (-1, 0, +1) for the P&L.
    threshold : lobutils.features.targets.Threshold or float or None
        The 3-class threshold, fitted on the training rows.
    baseline_names : mapping
        Renames of the evaluation baselines (``zero`` is ``persistence`` for L1 targets).
    """

    segment: str
    market: str
    symbol: str
    target: str
    task: str
    horizon: str
    horizon_value: int
    unit: str
    horizon_rows: int
    rows: np.ndarray = field(repr=False)
    X: pd.DataFrame = field(repr=False)
    y: np.ndarray = field(repr=False)
    returns: np.ndarray = field(repr=False)
    spread_bps: np.ndarray = field(repr=False)
    ts: np.ndarray = field(repr=False)
    target_end: np.ndarray = field(repr=False)
    split: ev.TrainValTest = field(repr=False)
    classes: tuple[str, ...] | None = None
    directions: tuple[int, ...] | None = None
    threshold: Any = None
    baseline_names: Mapping[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> np.ndarray | None:
        """Class codes ``0..k-1`` (classification), else None."""
        return None if self.classes is None else np.arange(len(self.classes))

    def split_summary(self) -> dict[str, Any]:
        """Row counts of the split, and the number of independent test targets.

        Returns
        -------
        dict of str to object
            ``n_rows``, ``n_train``, ``n_val``, ``n_test``, ``n_purged``, ``horizon_rows``,
            ``n_test_independent``, the test block's first and last time (int64 ns), the test class
            shares (classification) and ``threshold_bps``.
        """
        s = self.split
        n_test = int(len(s.test))
        out: dict[str, Any] = {
            "segment": self.segment,
            "target": self.target,
            "horizon": self.horizon,
            "n_rows": int(len(self.y)),
            "n_train": int(len(s.train)),
            "n_val": int(len(s.val)),
            "n_test": n_test,
            "n_purged": int(len(self.y) - len(s.train) - len(s.val) - n_test),
            "horizon_rows": self.horizon_rows,
            "n_test_independent": n_test / self.horizon_rows,
            "test_start_ts": int(self.ts[s.test[0]]),
            "test_end_ts": int(self.ts[s.test[-1]]),
        }
        if self.classes is not None:
            test = self.y[s.test]
            shares = np.bincount(test, minlength=len(self.classes)) / max(n_test, 1)
            for name, sh in zip(self.classes, shares, strict=True):
                out[f"test_share_{name}"] = float(sh)
            out["test_majority_share"] = float(shares.max())
        thr = self.threshold
        out["threshold_bps"] = (
            thr.value if isinstance(thr, _targets.Threshold) else (math.nan if thr is None else thr)
        )
        return out


def make_task(
    ds: Dataset, horizon: int | str, target: str, config: ZooConfig | None = None
) -> TaskData:
    """Select rows, build the target, and split by time for one modelling problem.

    Rows need finite features and a finite target (and, for ``binary`` with
    ``binary_no_change="drop"``, a non-zero return). The split is
    :func:`lobutils.evaluation.train_val_test_split` on the rows' times with their
    ``target_end``, so it is purged. Raises ``ValueError`` when the rows cannot be split or a
    classification training block holds a single class.

    Parameters
    ----------
    ds : Dataset
        The segment's modelling table.
    horizon : int or str
        A horizon of ``ds`` (number in its unit, or label).
    target : str
        One of :data:`TARGETS`.
    config : ZooConfig, optional
        Holdout fractions, embargo and label settings; default :class:`ZooConfig`'s.

    Returns
    -------
    TaskData
        Rows, target and split of the problem.

    Examples
    --------
    >>> from lobutils.data.catalog import segment
    >>> from lobutils.features.dataset import build_dataset
    >>> ds = build_dataset(segment("spot_btcusdt"), horizons=(1, 10))
    >>> td = make_task(ds, 10, "three_class")
    >>> td.task, td.classes, td.horizon_rows
    ('classification', ('down', 'flat', 'up'), 10)
    >>> int(ds.target_end["10s"].iloc[td.rows[td.split.train[-1]]]) < int(td.ts[td.split.val[0]])
    True
    """
    cfg = config or ZooConfig(models=(LinearConfig(),))
    task = task_of(target)
    lab = ds.label(horizon)
    r_all = ds.returns[lab].to_numpy()
    if target == "bid":
        y_all = ds.bid_change[lab].to_numpy()
    elif target == "ask":
        y_all = ds.ask_change[lab].to_numpy()
    else:
        y_all = r_all
    cols = list(ds.X.columns)
    mask = ds.usable(lab, cols) & np.isfinite(y_all)
    if target == "binary" and cfg.binary_no_change == "drop":
        mask &= r_all != 0
    rows = np.flatnonzero(mask)
    if rows.size < 10:
        raise ValueError(f"{ds.name} {lab}: only {rows.size} rows with features and a target")
    ts = ds.ts[rows]
    te = ds.target_end[lab].to_numpy()[rows]
    split = ev.train_val_test_split(ts, cfg.holdout, target_end=te)
    r = r_all[rows]
    classes = directions = threshold = None
    if target == "three_class":
        train_mask = np.zeros(rows.size, dtype=bool)
        train_mask[split.train] = True
        threshold = _targets.fit_threshold(r, train_mask, cfg.three_class_k)
        labels = _targets.three_class_labels(r, threshold=threshold)
        y = labels.codes.astype(np.int64)
        classes, directions = labels.classes, (-1, 0, 1)
    elif target == "binary":
        labels = _targets.binary_labels(r, no_change=cfg.binary_no_change)
        y = labels.codes.astype(np.int64)
        classes = labels.classes
        directions = (-1, 1) if cfg.binary_no_change == "drop" else (0, 1)
    else:
        y = y_all[rows].astype(np.float64)
    if task == "classification":
        if np.any(y < 0):
            raise ValueError(f"{ds.name} {lab}: rows without a label were kept")
        if np.unique(y[split.train]).size < 2:
            raise ValueError(f"{ds.name} {lab} {target}: the training block holds a single class")
    names = {"zero": "persistence", "last_return": "last_change"} if target in L1_TARGETS else {}
    return TaskData(
        segment=ds.name,
        market=ds.market,
        symbol=ds.symbol,
        target=target,
        task=task,
        horizon=lab,
        horizon_value=ds.horizon_value(lab),
        unit=ds.unit,
        horizon_rows=ds.horizon_rows(lab),
        rows=rows,
        X=ds.X.loc[rows, cols],
        y=y,
        returns=r,
        spread_bps=ds.spread_bps[rows],
        ts=ts,
        target_end=te,
        split=split,
        classes=classes,
        directions=directions,
        threshold=threshold,
        baseline_names=names,
    )


@dataclass(frozen=True, eq=False)
class FittedModel:
    """A model refitted on train (+ validation), with the config chosen on validation.

    Parameters
    ----------
    config : ModelConfig
        The config chosen on the validation block.
    estimator : object
        The fitted pipeline.
    feature_names : tuple of str
        Columns of ``X`` it was fitted on, in order.
    """

    config: ModelConfig
    estimator: Any = field(repr=False)
    feature_names: tuple[str, ...] = field(repr=False)


def permutation_importance_frame(
    estimator: Any,
    X: pd.DataFrame,
    y: Any,
    task: Task,
    *,
    metric: str | None = None,
    n_repeats: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Permutation importance on held-out rows: the drop in score when one column is shuffled.

    Positive means the model relies on the feature; around zero means it does not (or the
    rows are too few to tell). ``metric`` defaults to MSE (regression) and balanced accuracy
    (classification); the importance is always "higher is more important".

    Parameters
    ----------
    estimator : object
        A fitted model.
    X : pandas.DataFrame
        Held-out rows (the test block).
    y : array
        Their targets.
    task : {"regression", "classification"}
        Which variant.
    metric : str, optional
        A metric with a scikit-learn scorer (``mse``, ``mae``, ``r2``, ``accuracy``,
        ``balanced_accuracy``, ``macro_f1``, ``mcc``).
    n_repeats : int
        Shuffles per column.
    seed : int
        Seed of the shuffles.

    Returns
    -------
    pandas.DataFrame
        ``feature``, ``importance_mean``, ``importance_std``, ``metric``, most important first.

    Raises
    ------
    ValueError
        For a metric without a scorer.

    Examples
    --------
    >>> from sklearn.linear_model import LinearRegression
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    >>> m = LinearRegression().fit(X, 3 * X["a"])
    >>> permutation_importance_frame(m, X, 3 * X["a"], "regression").iloc[0]["feature"]
    'a'
    """
    from sklearn.inspection import permutation_importance

    _check_task(task)
    metric = metric or DEFAULT_TUNE_METRIC[task]
    if metric not in _SK_SCORING:
        raise ValueError(f"no scikit-learn scorer for {metric!r}; use one of {list(_SK_SCORING)}")
    res = permutation_importance(
        estimator,
        X,
        np.asarray(y),
        scoring=_SK_SCORING[metric],
        n_repeats=n_repeats,
        random_state=seed,
        n_jobs=1,
    )
    out = pd.DataFrame(
        {
            "feature": list(X.columns),
            "importance_mean": res.importances_mean,
            "importance_std": res.importances_std,
            "metric": metric,
        }
    )
    return out.sort_values("importance_mean", ascending=False, ignore_index=True)


def xgb_gain(estimator: Any, feature_names: Sequence[str]) -> pd.Series:
    """XGBoost's total gain per feature, as shares summing to 1 (0 for unused features).

    Gain is the training-loss reduction of the splits on a feature: an in-sample measure,
    unlike permutation importance on the test block.

    Parameters
    ----------
    estimator : object
        A fitted XGBoost model, possibly wrapped.
    feature_names : sequence of str
        Names of its features, in order.

    Returns
    -------
    pandas.Series
        Gain share per feature (index ``feature``).

    Raises
    ------
    TypeError
        If the model is not an XGBoost one.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.normal(size=300), "b": rng.normal(size=300)})
    >>> m = XGBConfig().build("regression").fit(X, 2 * X["a"])
    >>> xgb_gain(m, X.columns).idxmax()
    'a'
    """
    inner = unwrap(estimator)
    if not hasattr(inner, "get_booster"):
        raise TypeError(f"not an XGBoost model: {type(inner).__name__}")
    score = inner.get_booster().get_score(importance_type="total_gain")
    names = list(feature_names)
    vals = np.array([float(score.get(n, score.get(f"f{i}", 0.0))) for i, n in enumerate(names)])
    total = vals.sum()
    return pd.Series(vals / total if total > 0 else vals, index=pd.Index(names, name="feature"))


def _block_config(td: TaskData, config: ZooConfig, n: int) -> ev.BootstrapConfig:
    bl = min(n, max(td.horizon_rows, config.min_block_rows))
    return ev.BootstrapConfig(
        block_length=int(bl), n_boot=config.n_boot, confidence=config.confidence, seed=config.seed
    )


def evaluate_task(td: TaskData, config: ZooConfig) -> dict[str, Any]:
    """Tune, refit and score every model of ``config`` on one task, next to the baselines.

    Parameters
    ----------
    td : TaskData
        The task (:func:`make_task`).
    config : ZooConfig
        Models, tuning metric, refit rule, bootstrap, costs and importance settings.

    Returns
    -------
    dict
        ``table`` (:func:`lobutils.evaluation.results_table` plus the task's columns),
        ``predictions``, ``tuning``, ``pnl``, ``importance``, ``gain``, ``split`` (a
        one-row frame of :meth:`TaskData.split_summary`) and ``fitted`` (model name ->
        :class:`FittedModel`).
    """
    test = np.asarray(td.split.test)
    train_all = _refit_rows(td.split, config.refit)
    runs = [_run_model(mc, td, config) for mc in config.models]
    preds = {r.name: r.fit.y_pred for r in runs}
    baselines = _baselines(td, train_all, config.seed)
    boot = _block_config(td, config, len(test))
    table = ev.results_table(
        td.y[test],
        preds,
        baselines,
        task=td.task,
        config=boot,
        target=td.target,
        horizon=td.horizon,
        labels=td.labels,
        dm_horizon=td.horizon_rows,
    )
    params = {r.name: _params_text(r.fitted.config, td.task) for r in runs}
    probas = {
        r.name: (r.fit.proba, r.fit.classes)
        for r in runs
        if r.fit.proba is not None and r.fit.classes is not None
    }
    return {
        "table": _with_task_columns(table, td, params, n_train=len(train_all)),
        "predictions": _prediction_frame(td, preds, baselines),
        "tuning": pd.concat([r.tuning for r in runs], ignore_index=True),
        "pnl": _pnl_frame(td, config, preds, baselines, probas, boot),
        "importance": _concat([r.importance for r in runs]),
        "gain": _concat([r.gain for r in runs]),
        "split": pd.DataFrame([td.split_summary()]),
        "fitted": {r.name: r.fitted for r in runs},
    }


def _key(td: TaskData) -> dict[str, Any]:
    """The (segment, target, horizon) columns of every frame of one task."""
    return {"segment": td.segment, "target": td.target, "horizon": td.horizon}


def _refit_rows(split: ev.TrainValTest, refit: str) -> np.ndarray:
    """Rows the final model is fitted on: train, or train and validation."""
    if refit == "train_val":
        return np.union1d(split.train, split.val)
    return np.asarray(split.train)


def _concat(frames: Sequence[pd.DataFrame | None]) -> pd.DataFrame:
    """The frames that exist, concatenated; an empty frame when there are none."""
    parts = [f for f in frames if f is not None]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


@dataclass(frozen=True, eq=False)
class _ModelRun:
    """One model on one task: its validation scores, its test fit and its importances."""

    name: str
    tuning: pd.DataFrame
    fit: ev.FoldResult
    fitted: FittedModel
    importance: pd.DataFrame | None
    gain: pd.DataFrame | None


def _run_model(mc: ModelConfig, td: TaskData, config: ZooConfig) -> _ModelRun:
    """Tune ``mc`` on validation, refit it, predict the test block; importances if asked."""
    metric = config.tune_metric(td.task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        tr = tune(mc, td.task, td.X, td.y, td.split, metric=metric, labels=td.labels)
        fit = fit_final(tr.best, td.task, td.X, td.y, td.split, refit=config.refit)
        secs = time.perf_counter() - t0
    wants_importance = config.importance_repeats > 0 and (
        config.importance_models is None or mc.name in config.importance_models
    )
    return _ModelRun(
        name=mc.name,
        tuning=tr.scores.assign(**_key(td), seconds=secs),
        fit=fit,
        fitted=FittedModel(tr.best, fit.estimator, tuple(td.X.columns)),
        importance=_test_importance(fit.estimator, mc.name, td, config)
        if wants_importance
        else None,
        gain=_gain_frame(fit.estimator, mc.name, td) if isinstance(mc, XGBConfig) else None,
    )


def _test_importance(estimator: Any, name: str, td: TaskData, config: ZooConfig) -> pd.DataFrame:
    """Permutation importance of a fitted model on the test block, on the tuning metric."""
    test = np.asarray(td.split.test)
    metric = config.tune_metric(td.task)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        imp = permutation_importance_frame(
            estimator,
            td.X.iloc[test],
            td.y[test],
            td.task,
            metric=metric if metric in _SK_SCORING else None,
            n_repeats=config.importance_repeats,
            seed=config.seed,
        )
    return imp.assign(model=name, **_key(td))


def _gain_frame(estimator: Any, name: str, td: TaskData) -> pd.DataFrame:
    """XGBoost's gain shares of a fitted model, one row per feature."""
    g = xgb_gain(estimator, td.X.columns)
    return pd.DataFrame({"feature": g.index, "gain_share": g.to_numpy()}).assign(
        model=name, **_key(td)
    )


def _baselines(td: TaskData, train_all: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """The naive forecasts of the test block, named for the task (persistence for L1 targets)."""
    base = ev.walk_forward_baselines(
        td.y,
        [ev.Fold(train_all, np.asarray(td.split.test))],
        task=td.task,
        ts=td.ts,
        target_end=td.target_end,
        seed=seed,
    )
    cols = [c for c in base.columns if c not in ("row", "fold", "y_true")]
    return {td.baseline_names.get(c, c): base[c].to_numpy() for c in cols}


def _with_task_columns(
    table: pd.DataFrame, td: TaskData, params: Mapping[str, str], n_train: int
) -> pd.DataFrame:
    """The results table with the task's identity, sizes and the tuned hyperparameters."""
    table.insert(0, "segment", td.segment)
    table.insert(1, "market", td.market)
    table.insert(2, "symbol", td.symbol)
    table.insert(3, "task", td.task)
    table["horizon_value"] = td.horizon_value
    table["unit"] = td.unit
    table["n_train"] = n_train
    table["n_test_independent"] = len(td.split.test) / td.horizon_rows
    table["params"] = table["model"].map(params)
    return table


def _prediction_frame(
    td: TaskData, preds: Mapping[str, np.ndarray], baselines: Mapping[str, np.ndarray]
) -> pd.DataFrame:
    """Test-block forecasts of every model and baseline, one row per (forecast, test row)."""
    test = np.asarray(td.split.test)
    parts = [
        pd.DataFrame(
            {
                **_key(td),
                "model": name,
                "role": role,
                "row": td.rows[test],
                "ts": td.ts[test],
                "y_true": td.y[test],
                "y_pred": p,
            }
        )
        for role, src in (("model", preds), ("baseline", baselines))
        for name, p in src.items()
    ]
    return pd.concat(parts, ignore_index=True)


def _pnl_frame(
    td: TaskData,
    config: ZooConfig,
    preds: Mapping[str, np.ndarray],
    baselines: Mapping[str, np.ndarray],
    probas: Mapping[str, tuple[np.ndarray, np.ndarray]],
    boot: ev.BootstrapConfig,
) -> pd.DataFrame:
    """P&L net of costs of every model and baseline traded naively; empty for L1 targets.

    The taker fee is ``config.fee_bps`` or the market's (:func:`lobutils.markets.fees_bps`).
    """
    if td.target in L1_TARGETS:
        return pd.DataFrame()
    test = np.asarray(td.split.test)
    fee = config.fee_bps if config.fee_bps is not None else fees_bps(td.market)[1]
    costs = ev.CostModel(fee_bps=fee)
    rows = []
    for role, src in (("model", preds), ("baseline", baselines)):
        for name, p in src.items():
            direction = _direction(td, config, p, probas.get(name))
            res = ev.pnl_net_of_costs(
                direction, td.returns[test], td.spread_bps[test], costs=costs, bootstrap=boot
            )
            head = {**_key(td), "task": td.task, "model": name, "role": role, "fee_bps": fee}
            rows.append(head | res.to_dict())
    return pd.DataFrame(rows)


def _direction(
    td: TaskData,
    config: ZooConfig,
    pred: np.ndarray,
    proba: tuple[np.ndarray, np.ndarray] | None,
) -> np.ndarray:
    """Trade direction per test row: sign of a return forecast, or the arg-max class's direction."""
    if td.task == "regression":
        return ev.regression_signal(np.asarray(pred, np.float64), config.pnl_threshold_bps)
    dirs = np.asarray(td.directions, dtype=np.int8)
    if proba is not None:
        P, cls = proba
        return ev.classifier_signal(P, cls, 0.0, directions=dirs[cls])
    return dirs[np.asarray(pred, dtype=np.int64)]


# --------------------------------------------------------------------------------------
# the zoo over datasets, targets and horizons
# --------------------------------------------------------------------------------------


_FRAMES = ("table", "predictions", "tuning", "pnl", "importance", "gain", "splits", "skipped")


@dataclass(frozen=True, eq=False)
class ZooResult:
    """Everything :func:`run_zoo` computed, as tidy frames.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per (segment, target, horizon, model or baseline, metric): the value, its CI,
        the best naive baseline, the difference with its CI and p-value, ``beats_baseline``,
        Diebold-Mariano, and the tuned ``params``.
    predictions : pandas.DataFrame
        Test-block forecasts of every model and baseline (``row`` is the dataset's row).
    tuning : pandas.DataFrame
        Validation score of every grid point, and which was chosen.
    pnl : pandas.DataFrame
        :func:`lobutils.evaluation.pnl_net_of_costs` of every model and baseline.
    importance, gain : pandas.DataFrame
        Permutation importance on the test block; XGBoost gain shares.
    splits : pandas.DataFrame
        Rows of each split and the number of independent test targets.
    skipped : pandas.DataFrame
        (segment, target, horizon) that could not be run, and why.
    fitted : dict
        ``(segment, target, horizon, model)`` -> :class:`FittedModel`.
    seconds : float
        Wall time of the run, s.
    """

    table: pd.DataFrame
    predictions: pd.DataFrame
    tuning: pd.DataFrame
    pnl: pd.DataFrame
    importance: pd.DataFrame
    gain: pd.DataFrame
    splits: pd.DataFrame
    skipped: pd.DataFrame
    fitted: dict = field(repr=False)
    seconds: float = 0.0

    def combine(self, other: ZooResult) -> ZooResult:
        """Both results in one (e.g. the zoo and the L1 runs).

        Parameters
        ----------
        other : ZooResult
            Another result.

        Returns
        -------
        ZooResult
            Frames concatenated, fitted models merged, seconds added.
        """
        frames = {
            k: pd.concat([getattr(self, k), getattr(other, k)], ignore_index=True) for k in _FRAMES
        }
        return ZooResult(
            **frames, fitted={**self.fitted, **other.fitted}, seconds=self.seconds + other.seconds
        )


def run_zoo(
    datasets: Dataset | Sequence[Dataset],
    config: ZooConfig | None = None,
    *,
    progress: bool = False,
) -> ZooResult:
    """Run every model of ``config`` on every (dataset, target, horizon).

    A combination whose rows cannot be split (a horizon too long for the data) or whose
    training block has one class is recorded in ``skipped`` with the reason, not raised.

    Parameters
    ----------
    datasets : Dataset or sequence of Dataset
        The segments.
    config : ZooConfig, optional
        Models, targets, horizons, protocol and bootstrap; default :class:`ZooConfig`'s.
    progress : bool
        Print one line per task.

    Returns
    -------
    ZooResult
        Every table, tidy.

    Raises
    ------
    ValueError
        If no dataset is given or every task was skipped.

    Examples
    --------
    >>> from lobutils.data.catalog import segment
    >>> from lobutils.features.dataset import build_dataset
    >>> ds = build_dataset(segment("usdm_btcusdt"), horizons=(1,))
    >>> res = run_zoo(ds, ZooConfig(models=(LinearConfig(),), targets=("return",), n_boot=50,
    ...                             importance_repeats=0))
    >>> sorted(res.table["model"].unique())
    ['last_return', 'linear', 'zero']
    """
    cfg = config or ZooConfig()
    dss = [datasets] if isinstance(datasets, Dataset) else list(datasets)
    if not dss:
        raise ValueError("no datasets given")
    t_start = time.perf_counter()
    parts: dict[str, list[pd.DataFrame]] = {k: [] for k in _FRAMES}
    fitted: dict = {}
    for ds in dss:
        horizons = cfg.horizons if cfg.horizons is not None else ds.horizons
        for target in cfg.targets:
            for h in horizons:
                lab = ds.label(int(h))
                t0 = time.perf_counter()
                try:
                    td = make_task(ds, lab, target, cfg)
                except ValueError as exc:
                    parts["skipped"].append(
                        pd.DataFrame(
                            [
                                {
                                    "segment": ds.name,
                                    "target": target,
                                    "horizon": lab,
                                    "reason": str(exc),
                                }
                            ]
                        )
                    )
                    if progress:
                        print(f"{ds.name} {target} {lab}: skipped ({exc})")
                    continue
                out = evaluate_task(td, cfg)
                for k in _FRAMES:
                    if k == "splits":
                        parts[k].append(out["split"])
                    elif k != "skipped" and not out[k].empty:
                        parts[k].append(out[k])
                for name, fm in out["fitted"].items():
                    fitted[(ds.name, target, lab, name)] = fm
                if progress:
                    print(f"{ds.name} {target} {lab}: {time.perf_counter() - t0:.1f} s")
    frames = {k: pd.concat(v, ignore_index=True) if v else pd.DataFrame() for k, v in parts.items()}
    if frames["skipped"].empty:
        frames["skipped"] = pd.DataFrame(columns=["segment", "target", "horizon", "reason"])
    if frames["table"].empty:
        raise ValueError(
            "every (segment, target, horizon) was skipped:\n"
            + "\n".join(frames["skipped"]["reason"].astype(str))
        )
    return ZooResult(**frames, fitted=fitted, seconds=time.perf_counter() - t_start)


# --------------------------------------------------------------------------------------
# headline numbers and output
# --------------------------------------------------------------------------------------


def primary_view(table: pd.DataFrame, primary: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The model rows of the primary metric of each task, one row per (segment, target,
    horizon, model), with the value, its CI, the best baseline and the difference's CI.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`ZooResult.table`.
    primary : mapping of str to str, optional
        Task to metric; default :data:`PRIMARY_METRIC`.

    Returns
    -------
    pandas.DataFrame
        The model rows of the primary metric with the baseline comparison columns.

    Examples
    --------
    >>> t = pd.DataFrame({"segment": ["a", "a"], "target": ["return"] * 2, "task": ["regression"] * 2,
    ...     "horizon": ["1s"] * 2, "model": ["m", "m"], "role": ["model"] * 2, "metric": ["mse", "r2_oos"],
    ...     "value": [1.0, 0.1], "ci_low": [0.5, 0.0], "ci_high": [1.5, 0.2], "baseline": ["zero"] * 2,
    ...     "baseline_value": [1.1, 0.0], "diff": [-0.1, 0.1], "diff_ci_low": [-0.2, 0.05],
    ...     "diff_ci_high": [0.0, 0.15], "beats_baseline": [False, True]})
    >>> primary_view(t)[["model", "metric", "beats_baseline"]].to_dict("records")
    [{'model': 'm', 'metric': 'r2_oos', 'beats_baseline': True}]
    """
    prim = dict(PRIMARY_METRIC if primary is None else primary)
    keep = (table["role"] == "model") & (table["metric"] == table["task"].map(prim))
    cols = [
        "segment",
        "target",
        "horizon",
        "model",
        "metric",
        "value",
        "ci_low",
        "ci_high",
        "baseline",
        "baseline_value",
        "diff",
        "diff_ci_low",
        "diff_ci_high",
        "beats_baseline",
    ]
    return table.loc[keep, cols].reset_index(drop=True)


def headline_metrics(
    table: pd.DataFrame, primary: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The table's headline numbers for ``metrics.json``.

    Per (segment, target, horizon): the best model on the primary metric (value and CI), the
    best baseline's value, the difference's CI and whether the model beats the baseline beyond
    it. Overall: how many (model, segment, target, horizon) comparisons there were and how many
    beat their best baseline beyond the CI.

    Parameters
    ----------
    table : pandas.DataFrame
        :attr:`ZooResult.table`.
    primary : mapping of str to str, optional
        Task to metric; default :data:`PRIMARY_METRIC`.

    Returns
    -------
    dict of str to object
        ``primary_metric``, ``n_comparisons``, ``n_beat_baseline``, ``beat_baseline``,
        ``by_target`` and ``best`` (nested by segment, target and horizon).
    """
    view = primary_view(table, primary)
    prim = dict(PRIMARY_METRIC if primary is None else primary)
    out: dict[str, Any] = {
        "primary_metric": prim,
        "n_comparisons": int(len(view)),
        "n_beat_baseline": int(view["beats_baseline"].fillna(False).astype(bool).sum()),
        "beat_baseline": [
            f"{r.segment}/{r.target}/{r.horizon}/{r.model}"
            for r in view.itertuples()
            if bool(r.beats_baseline)
        ],
        "by_target": {
            str(tgt): {
                "n_comparisons": int(len(g)),
                "n_beat_baseline": int(g["beats_baseline"].fillna(False).astype(bool).sum()),
            }
            for tgt, g in view.groupby("target", sort=False)
        },
        "best": {},
    }
    for (seg, tgt, hor), grp in view.groupby(["segment", "target", "horizon"], sort=False):
        greater = ev.GREATER_IS_BETTER[grp["metric"].iloc[0]]
        i = grp["value"].idxmax() if greater else grp["value"].idxmin()
        r = grp.loc[i]
        out["best"].setdefault(seg, {}).setdefault(tgt, {})[hor] = {
            "model": r["model"],
            "metric": r["metric"],
            "value": r["value"],
            "ci": [r["ci_low"], r["ci_high"]],
            "baseline": r["baseline"],
            "baseline_value": r["baseline_value"],
            "diff_ci": [r["diff_ci_low"], r["diff_ci_high"]],
            "beats_baseline": bool(r["beats_baseline"]) if pd.notna(r["beats_baseline"]) else None,
        }
    return out


def save_results(
    result: ZooResult,
    report_dir: str | Path,
    extra_metrics: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the tidy frames (csv, and parquet for the results table) and ``metrics.json``.

    Files: ``results.csv``, ``results.parquet``, ``pnl.csv``, ``importance.csv``,
    ``gain.csv``, ``tuning.csv``, ``splits.csv``, ``skipped.csv``. ``metrics.json`` holds
    :func:`headline_metrics` under ``"headline"`` and ``extra_metrics`` beside it.

    Parameters
    ----------
    result : ZooResult
        What :func:`run_zoo` returned.
    report_dir : str or pathlib.Path
        Directory (created if needed), e.g. :func:`lobutils.paths.report_dir`.
    extra_metrics : mapping, optional
        More entries of ``metrics.json``.

    Returns
    -------
    dict
        The metrics as written.
    """
    from lobutils.paths import write_metrics

    out = Path(report_dir)
    out.mkdir(parents=True, exist_ok=True)
    table = result.table.copy()
    table["beats_baseline"] = table["beats_baseline"].astype("object")
    table.to_csv(out / "results.csv", index=False)
    result.table.to_parquet(out / "results.parquet", index=False)
    for name in ("pnl", "importance", "gain", "tuning", "splits", "skipped"):
        getattr(result, name).to_csv(out / f"{name}.csv", index=False)
    metrics = {"headline": headline_metrics(result.table), **dict(extra_metrics or {})}
    return write_metrics(out, metrics)


# --------------------------------------------------------------------------------------
# narrow views for the book (full tables go to the report directory)
# --------------------------------------------------------------------------------------

_KEY = ["segment", "target", "horizon"]


def _in_order(values: Any) -> list:
    return list(dict.fromkeys(values))


def verdicts(view: pd.DataFrame) -> pd.Series:
    """Where each model's paired interval against its best baseline lies.

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`primary_view` (columns ``metric``, ``diff_ci_low``, ``diff_ci_high``).

    Returns
    -------
    pandas.Series
        ``"better"`` (the whole interval of the difference is on the better side of zero,
        ``beats_baseline``), ``"worse"`` (on the worse side) or ``"undecided"``.

    Examples
    --------
    >>> v = pd.DataFrame({"metric": ["mse", "mse", "r2_oos"], "diff_ci_low": [-2.0, 1.0, -0.1],
    ...                   "diff_ci_high": [-1.0, 2.0, 0.1]})
    >>> verdicts(v).tolist()
    ['better', 'worse', 'undecided']
    """
    greater = view["metric"].map(ev.GREATER_IS_BETTER).astype(bool).to_numpy()
    above = (view["diff_ci_low"] > 0).to_numpy()
    below = (view["diff_ci_high"] < 0).to_numpy()
    win = np.where(greater, above, below)
    lose = np.where(greater, below, above)
    out = np.select([win, lose], ["better", "worse"], "undecided")
    return pd.Series(out, index=view.index, name="verdict")


def verdict_pivot(view: pd.DataFrame) -> pd.DataFrame:
    """Per (target, horizon) and model: in how many segments the model beats its baseline.

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`primary_view`.

    Returns
    -------
    pandas.DataFrame
        Index (target, horizon), one column per model, cells ``"wins/segments"``.

    Examples
    --------
    >>> v = pd.DataFrame({"segment": ["a", "b", "a"], "target": ["return"] * 3,
    ...     "horizon": ["1s"] * 3, "model": ["linear", "linear", "tree"], "metric": ["r2_oos"] * 3,
    ...     "diff_ci_low": [0.1, -0.1, -0.2], "diff_ci_high": [0.2, 0.1, -0.1]})
    >>> verdict_pivot(v).to_dict("records")
    [{'linear': '1/2', 'tree': '0/1'}]
    """
    v = view.assign(win=verdicts(view).eq("better"))
    g = v.groupby(["target", "horizon", "model"], sort=False)["win"].agg(["sum", "size"])
    cells = g["sum"].astype(int).astype(str) + "/" + g["size"].astype(str)
    rows = _in_order(zip(v["target"], v["horizon"], strict=True))
    out = cells.unstack("model").reindex(index=pd.MultiIndex.from_tuples(rows))
    out.index.names = ["target", "horizon"]
    return out[_in_order(v["model"])].fillna("–").rename_axis(columns=None)


def split_table(splits: pd.DataFrame, target: str) -> pd.DataFrame:
    """Rows of each split of one target, one row per (segment, horizon), integers only.

    Parameters
    ----------
    splits : pandas.DataFrame
        ``ZooResult.splits``.
    target : str
        The target whose splits are shown (the others differ only in dropped rows).

    Returns
    -------
    pandas.DataFrame
        Index (segment, horizon); columns ``train``, ``val``, ``test``, ``purged`` (rows) and
        ``independent`` (test rows / horizon rows: the non-overlapping test targets).

    Examples
    --------
    >>> s = pd.DataFrame({"segment": ["a"], "target": ["return"], "horizon": ["10s"],
    ...     "n_train": [300], "n_val": [90], "n_test": [100], "n_purged": [20],
    ...     "n_test_independent": [10.0]})
    >>> split_table(s, "return").to_dict("records")
    [{'train': 300, 'val': 90, 'test': 100, 'purged': 20, 'independent': 10}]
    """
    t = splits[splits["target"] == target].set_index(["segment", "horizon"])
    out = t[["n_train", "n_val", "n_test", "n_purged"]].astype(int)
    out.columns = ["train", "val", "test", "purged"]
    out["independent"] = t["n_test_independent"].round().astype(int)
    return out


def best_models(view: pd.DataFrame) -> pd.DataFrame:
    """The best model per (segment, target, horizon) on the primary metric.

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`primary_view`; the primary metrics are all "greater is better".

    Returns
    -------
    pandas.DataFrame
        Columns ``segment``, ``target``, ``horizon``, ``model``.

    Examples
    --------
    >>> v = pd.DataFrame({"segment": ["a", "a"], "target": ["return"] * 2, "horizon": ["1s"] * 2,
    ...                   "model": ["linear", "tree"], "value": [0.01, -0.2]})
    >>> best_models(v)["model"].tolist()
    ['linear']
    """
    idx = view.groupby(_KEY, sort=False)["value"].idxmax()
    return view.loc[idx, [*_KEY, "model"]].reset_index(drop=True)


def pnl_table(pnl: pd.DataFrame) -> pd.DataFrame:
    """P&L per trade, narrow: trades, mean gross and mean net with its interval (bps).

    Parameters
    ----------
    pnl : pandas.DataFrame
        Rows of ``ZooResult.pnl`` (one per segment, target, horizon and model).

    Returns
    -------
    pandas.DataFrame
        Index (segment, target, horizon); columns ``model``, ``trades``, ``gross bps`` and
        ``net bps (CI)`` ("–" where the model did not trade).

    Examples
    --------
    >>> p = pd.DataFrame({"segment": ["a"], "target": ["return"], "horizon": ["1s"],
    ...     "model": ["linear"], "n_trades": [12], "mean_gross_bps": [0.41],
    ...     "mean_net_bps": [-9.6], "ci_low": [-10.2], "ci_high": [-9.1]})
    >>> pnl_table(p).to_dict("records")
    [{'model': 'linear', 'trades': 12, 'gross bps': '0.41', 'net bps (CI)': '-9.60 [-10.20, -9.10]'}]
    """
    out = pnl.set_index(_KEY)[["model"]].copy()
    trades = pnl["n_trades"].astype(int).to_numpy()
    out["trades"] = trades
    gross = pnl["mean_gross_bps"].to_numpy()
    out["gross bps"] = [f"{v:.2f}" if n else "–" for v, n in zip(gross, trades, strict=True)]
    out["net bps (CI)"] = [
        fmt_ci(v, lo, hi, 2) if n else "–"
        for v, lo, hi, n in zip(
            pnl["mean_net_bps"], pnl["ci_low"], pnl["ci_high"], trades, strict=True
        )
    ]
    return out


def pnl_summary(pnl: pd.DataFrame) -> dict[str, Any]:
    """The numbers a chapter quotes about the P&L of its best models.

    Parameters
    ----------
    pnl : pandas.DataFrame
        Rows of ``ZooResult.pnl``.

    Returns
    -------
    dict
        ``n_traded`` (rows with at least one trade), ``n_gross_positive`` (mean gross P&L per
        trade above zero), ``net_positive`` (``"model on segment (target, horizon)"`` of the
        rows whose net CI lies above zero), and the range of the mean cost (``cost_min``,
        ``cost_max``) and of the mean gross P&L (``gross_min``, ``gross_max``), in bps.

    Examples
    --------
    >>> p = pd.DataFrame({"segment": ["a", "b"], "target": ["return"] * 2, "horizon": ["1s"] * 2,
    ...     "model": ["linear", "tree"], "n_trades": [10, 0], "mean_gross_bps": [0.5, np.nan],
    ...     "mean_cost_bps": [10.0, np.nan], "ci_low": [-10.1, np.nan]})
    >>> s = pnl_summary(p)
    >>> s["n_traded"], s["n_gross_positive"], s["net_positive"], s["cost_min"]
    (1, 1, [], 10.0)
    """
    traded = pnl[pnl["n_trades"] > 0]
    net = traded[traded["ci_low"] > 0]
    return {
        "n_traded": len(traded),
        "n_gross_positive": int((traded["mean_gross_bps"] > 0).sum()),
        "net_positive": [
            f"{r.model} on {r.segment} ({r.target}, {r.horizon})" for r in net.itertuples()
        ],
        "cost_min": float(traded["mean_cost_bps"].min()),
        "cost_max": float(traded["mean_cost_bps"].max()),
        "gross_min": float(traded["mean_gross_bps"].min()),
        "gross_max": float(traded["mean_gross_bps"].max()),
    }


def ci_pivot(view: pd.DataFrame, digits: int = 2) -> pd.DataFrame:
    """The primary metric with its interval, one row per (segment, horizon), one column per
    target; a ✓ marks a model that beats its best baseline beyond the interval.

    For a view with one model per task (the future-L1 section).

    Parameters
    ----------
    view : pandas.DataFrame
        Rows of :func:`primary_view`.
    digits : int
        Decimal places.

    Returns
    -------
    pandas.DataFrame
        Cells ``"value [low, high]"`` (strings).

    Examples
    --------
    >>> v = pd.DataFrame({"segment": ["a"], "target": ["bid"], "horizon": ["1s"], "model": ["x"],
    ...     "metric": ["r2_oos"], "value": [0.2], "ci_low": [0.1], "ci_high": [0.3],
    ...     "diff_ci_low": [0.05], "diff_ci_high": [0.2]})
    >>> ci_pivot(v).loc[("a", "1s"), "bid"]
    '0.20 [0.10, 0.30] ✓'
    """
    wins = verdicts(view).eq("better").to_numpy()
    cells = [
        fmt_ci(v, lo, hi, digits) + (" ✓" if w else "")
        for v, lo, hi, w in zip(view["value"], view["ci_low"], view["ci_high"], wins, strict=True)
    ]
    t = view.assign(cell=cells)
    out = t.pivot(index=["segment", "horizon"], columns="target", values="cell")
    rows = _in_order(zip(t["segment"], t["horizon"], strict=True))
    return out.reindex(index=pd.MultiIndex.from_tuples(rows, names=["segment", "horizon"]))[
        _in_order(t["target"])
    ].rename_axis(columns=None)


def wide_band_claim(
    datasets: Sequence[Dataset], horizon: int | str, config: ZooConfig, share: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Reproduce a headline accuracy: 3-class labels whose flat band holds ``share`` of the
    training returns, models tuned for plain accuracy, scored next to the majority class.

    Parameters
    ----------
    datasets : sequence of Dataset
        The segments.
    horizon : int or str
        The horizon (in the datasets' unit) or its label.
    config : ZooConfig
        The zoo's configuration; the claim tunes on accuracy and skips importance.
    share : float
        Share of the training returns inside the flat band (e.g. 0.86).

    Returns
    -------
    claim : pandas.DataFrame
        One row per segment: the most accurate model, the band, its accuracy and CI, the
        majority-class share of the same test labels, balanced accuracy, MCC and
        ``beats_majority`` (it beats its best baseline beyond the interval).
    skipped : pandas.DataFrame
        ``segment`` and ``reason`` of the segments that could not be labelled or split.
    """
    cfg = replace(
        config,
        targets=("three_class",),
        tune_metric_classification="accuracy",
        importance_repeats=0,
    )
    rows, skipped = [], []
    for ds in datasets:
        try:
            rows.append(_claim_row(ds, horizon, cfg, share))
        except ValueError as exc:
            skipped.append({"segment": ds.name, "reason": str(exc)})
    return pd.DataFrame(rows), pd.DataFrame(skipped, columns=["segment", "reason"])


def _claim_row(ds: Dataset, horizon: int | str, cfg: ZooConfig, share: float) -> dict[str, Any]:
    """One segment of :func:`wide_band_claim`."""
    td = make_task(ds, horizon, "three_class", cfg)
    band = float(np.quantile(np.abs(td.returns[td.split.train]), share))
    y = _targets.three_class_labels(td.returns, threshold=band).codes.astype(np.int64)
    if np.unique(y[td.split.train]).size < 2:
        raise ValueError("the wide band leaves one class in the training block")
    td_wide = replace(td, y=y, target="three_class_wide", threshold=band)
    tab = evaluate_task(td_wide, cfg)["table"]
    acc = tab[(tab["metric"] == "accuracy") & (tab["role"] == "model")]
    best = acc.loc[acc["value"].idxmax()]
    maj = tab[(tab["metric"] == "accuracy") & (tab["model"] == "majority")].iloc[0]
    other = tab[tab["model"] == best["model"]].set_index("metric")
    return {
        "segment": ds.name,
        "model": best["model"],
        "band_bps": band,
        "accuracy": best["value"],
        "accuracy_ci_low": best["ci_low"],
        "accuracy_ci_high": best["ci_high"],
        "majority_share": maj["value"],
        "balanced_accuracy": other.loc["balanced_accuracy", "value"],
        "mcc": other.loc["mcc", "value"],
        "beats_majority": bool(best["beats_baseline"]),
    }


def claim_table(claim: pd.DataFrame) -> pd.DataFrame:
    """:func:`wide_band_claim`'s rows, narrow: accuracy with its CI next to the majority share.

    Parameters
    ----------
    claim : pandas.DataFrame
        The first frame :func:`wide_band_claim` returns.

    Returns
    -------
    pandas.DataFrame
        Index segment; columns ``model``, ``accuracy (CI)``, ``majority``, ``bal. acc.``,
        ``mcc`` (shares to two decimals).

    Examples
    --------
    >>> c = pd.DataFrame({"segment": ["a"], "model": ["tree"], "accuracy": [0.861],
    ...     "accuracy_ci_low": [0.82], "accuracy_ci_high": [0.9], "majority_share": [0.87],
    ...     "balanced_accuracy": [0.34], "mcc": [0.02]})
    >>> claim_table(c).iloc[0].tolist()
    ['tree', '0.86 [0.82, 0.90]', '0.87', '0.34', '0.02']
    """
    out = claim.set_index("segment")[["model"]].copy()
    out["accuracy (CI)"] = [
        fmt_ci(v, lo, hi, 2)
        for v, lo, hi in zip(
            claim["accuracy"], claim["accuracy_ci_low"], claim["accuracy_ci_high"], strict=True
        )
    ]
    for col, name in (("majority_share", "majority"), ("balanced_accuracy", "bal. acc.")):
        out[name] = [f"{v:.2f}" for v in claim[col]]
    out["mcc"] = [f"{v:.2f}" for v in claim["mcc"]]
    return out
