"""One honest evaluation protocol for every model in the book.

The protocol has five parts; each is a module of this package, and every public name is
re-exported here (``from lobutils import evaluation as ev; ev.results_table``):

:mod:`~lobutils.evaluation.splits` -- chronological splits
    :func:`walk_forward_splits` (expanding or rolling windows), :func:`train_val_test_split`
    (by time fractions) and :func:`day_splits` (walk-forward over UTC days). Every split is
    *purged* and *embargoed* by :func:`purge_embargo`.
:mod:`~lobutils.evaluation.scaling` -- training-only normalisation
    :func:`scaled_pipeline` puts the scaler inside a scikit-learn ``Pipeline``;
    :func:`fit_predict_fold` and :func:`walk_forward_predict` clone, wrap and fit it on the
    training rows of each fold and nothing else.
:mod:`~lobutils.evaluation.baselines` -- naive baselines
    :func:`walk_forward_baselines`: zero and last return for regression; majority class,
    persistence and a stratified guess for classification. Persistence is causal: it is the last
    target *realised* by time t (:func:`persistence_forecast`), never a future value.
:mod:`~lobutils.evaluation.metrics` and :mod:`~lobutils.evaluation.inference` -- metrics with uncertainty
    :func:`regression_metrics`, :func:`classification_metrics`, block-bootstrap confidence
    intervals (:func:`block_bootstrap_ci`), a paired bootstrap test
    (:func:`paired_bootstrap_test`) and the Diebold--Mariano test (:func:`diebold_mariano`).
:mod:`~lobutils.evaluation.results` -- the results table
    :func:`results_table` puts every model number next to its best naive baseline.
:mod:`~lobutils.evaluation.pnl` -- P&L net of costs
    :func:`regression_signal`, :func:`classifier_signal` and :func:`pnl_net_of_costs`, with
    the taker fees of :mod:`lobutils.markets`.

``_checks`` holds the input validation that all of them share.

Clocks and units
----------------
Splits run on a *clock*: either the rows' exchange timestamps (``int64`` ns, non-decreasing) or,
when an ``int`` ``n`` is passed instead, the row positions ``0..n-1``. ``horizon``, ``embargo``
and ``target_end`` are in the units of that clock (ns, or rows). Row ``i``'s target window is
``[ts[i], target_end[i]]``; with a fixed horizon ``target_end = ts + horizon``.

Drop rows without a target (NaN returns, invalid label codes) *before* splitting, and keep
their clock: with a horizon in seconds pass the kept rows' ``ts``; with a horizon in events
pass the kept rows' original positions (``np.flatnonzero(labels.valid)``) as ``ts``, so that
``horizon`` still counts events of the full series.

Block lengths of the bootstrap are always in rows. Choose them at least as long as the target
horizon in rows, so that the overlapping targets inside a block stay together.

Dependencies: the splits, baselines, metrics and bootstrap need only numpy and pandas;
:mod:`~lobutils.evaluation.scaling` imports scikit-learn and :func:`diebold_mariano` imports
scipy when called (the ``ml`` extra).

Examples
--------
A 10-row series, a 2-row target horizon, three walk-forward folds of two test rows each:

>>> folds = walk_forward_splits(10, WalkForwardConfig(n_splits=3, test_size=2), horizon=2)
>>> [(f.train.tolist(), f.test.tolist()) for f in folds]
[([0, 1], [4, 5]), ([0, 1, 2, 3], [6, 7]), ([0, 1, 2, 3, 4, 5], [8, 9])]

Rows 2 and 3 of the first fold are purged: their targets end at rows 4 and 5, inside the test
block.
"""

from lobutils.evaluation.baselines import (
    CLASSIFICATION_BASELINES,
    REGRESSION_BASELINES,
    block_shuffle,
    majority_class,
    persistence_forecast,
    stratified_guess,
    walk_forward_baselines,
    zero_forecast,
)
from lobutils.evaluation.inference import (
    BootstrapCI,
    BootstrapConfig,
    DieboldMarianoResult,
    PairedBootstrapResult,
    block_bootstrap_ci,
    block_bootstrap_indices,
    diebold_mariano,
    paired_bootstrap_test,
)
from lobutils.evaluation.metrics import (
    GREATER_IS_BETTER,
    accuracy,
    balanced_accuracy,
    class_balance,
    classification_metrics,
    cohen_kappa,
    confusion_matrix,
    macro_f1,
    mae,
    mcc,
    mse,
    pearson,
    r2,
    r2_oos,
    regression_metrics,
    spearman,
)
from lobutils.evaluation.pnl import (
    BINANCE_SPOT_TAKER_FEE_BPS,
    BINANCE_USDM_TAKER_FEE_BPS,
    CostModel,
    PnLResult,
    classifier_signal,
    pnl_net_of_costs,
    regression_signal,
    trade_pnl,
)
from lobutils.evaluation.results import (
    results_table,
)
from lobutils.evaluation.scaling import (
    ClippedStandardScaler,
    FoldResult,
    fit_predict_fold,
    scaled_pipeline,
    walk_forward_predict,
)
from lobutils.evaluation.splits import (
    NS_PER_DAY,
    DayConfig,
    Fold,
    HoldoutConfig,
    TrainValTest,
    WalkForwardConfig,
    day_splits,
    folds_frame,
    purge_embargo,
    train_val_test_split,
    walk_forward_splits,
)

__all__ = [
    "BINANCE_SPOT_TAKER_FEE_BPS",
    "BINANCE_USDM_TAKER_FEE_BPS",
    "CLASSIFICATION_BASELINES",
    "GREATER_IS_BETTER",
    "NS_PER_DAY",
    "REGRESSION_BASELINES",
    "BootstrapCI",
    "BootstrapConfig",
    "CostModel",
    "DayConfig",
    "DieboldMarianoResult",
    "Fold",
    "FoldResult",
    "HoldoutConfig",
    "PairedBootstrapResult",
    "PnLResult",
    "TrainValTest",
    "WalkForwardConfig",
    "accuracy",
    "balanced_accuracy",
    "block_bootstrap_ci",
    "block_bootstrap_indices",
    "block_shuffle",
    "class_balance",
    "classification_metrics",
    "classifier_signal",
    "cohen_kappa",
    "confusion_matrix",
    "day_splits",
    "diebold_mariano",
    "fit_predict_fold",
    "folds_frame",
    "mae",
    "macro_f1",
    "majority_class",
    "mcc",
    "mse",
    "paired_bootstrap_test",
    "pearson",
    "persistence_forecast",
    "pnl_net_of_costs",
    "purge_embargo",
    "r2",
    "r2_oos",
    "regression_metrics",
    "regression_signal",
    "results_table",
    "ClippedStandardScaler",
    "scaled_pipeline",
    "spearman",
    "stratified_guess",
    "trade_pnl",
    "train_val_test_split",
    "walk_forward_baselines",
    "walk_forward_predict",
    "walk_forward_splits",
    "zero_forecast",
]
