"""Models of the book, each measured with the protocol of :mod:`lobutils.evaluation`.

:mod:`lobutils.models.zoo`
    The classical zoo (scikit-learn and XGBoost): linear/logistic regression, decision tree,
    random forest, XGBoost, SVM and MLP, for regression and classification, built from frozen
    dataclass configs, tuned on the validation block, evaluated on the test block next to the
    naive baselines (chapter 6).

:mod:`lobutils.models.crossmarket`
    One model per market against one pooled model, split by one clock (chapter 11).
:mod:`lobutils.models.leakage`
    Chapter 4's audit model: how much of a target the past already explains.
:mod:`lobutils.models.training`, :mod:`lobutils.models.deeplob`, :mod:`lobutils.models.windows`
    The Keras training loop, the DeepLOB family of builders, and zero-copy input windows.
:mod:`lobutils.models.study`, :mod:`lobutils.models.runs`
    Chapter 7's protocol (splits, windows, baselines, intervals) and its runs (per market,
    pooled, variants).
:mod:`lobutils.models.volume`, :mod:`lobutils.models.fi2010`
    Volume forecasting (chapter 10) and the FI-2010 benchmark loader.

The subpackage imports nothing itself, so ``import lobutils.models.zoo`` loads scikit-learn and
XGBoost only when the zoo is used.
"""

# The Keras models (chapter 7): lobutils.models.deeplob (DeepLOB, DeepLOB-TCN, the multi-task
# model, a small CNN and a one-layer LSTM), lobutils.models.training (the Keras training loop,
# with early stopping and resumable checkpoints), lobutils.models.windows (zero-copy input
# windows, training-only normalisation) and lobutils.models.fi2010 (the FI-2010 loader). Their
# names resolve lazily here (``lobutils.models.build_deeplob``), so importing this package still
# loads no Keras.
_LAZY = {
    "deeplob": (
        "DeepLOBConfig",
        "build_deeplob",
        "build_deeplob_tcn",
        "build_multitask",
        "build_cnn_classifier",
        "build_l1_lstm",
    ),
    "training": ("TrainConfig", "fit_predict", "train_model"),
    "windows": ("WindowDataset", "fit_normalizer", "window_ends", "lob_matrix", "load_lob"),
}

__all__ = [name for names in _LAZY.values() for name in names]


def __getattr__(name):
    for module, names in _LAZY.items():
        if name in names:
            import importlib

            return getattr(importlib.import_module(f"{__name__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
