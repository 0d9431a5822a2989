"""A generic Keras training loop: compile, fit with early stopping, resume, predict.

Every model of :mod:`lobutils.models` trains here: the DeepLOB family of
:mod:`lobutils.models.deeplob` (chapter 7) and the volume LSTM of
:mod:`lobutils.models.volume` (the volume chapter).

:class:`TrainConfig` holds the training options (loss: cross-entropy, MSE or Huber; target
standardisation with training statistics; gradient clipping; early stopping on the validation
loss; ``ReduceLROnPlateau``; an EMA-smoothed training target). :func:`train_model` compiles and
fits a model on :class:`~lobutils.models.windows.WindowDataset` inputs, with checkpoints that
resume from the last finished epoch and the learning curve as a frame; :func:`predict` runs it
over a dataset; :func:`fit_predict` does the whole round trip on one split and always scores the
raw target, even when the model was trained on a smoothed one. :func:`measure_throughput` times
pure training steps.

Examples
--------
>>> TrainConfig(epochs=3).loss_for("regression")
'huber'
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import keras
import numpy as np
import pandas as pd
from keras import ops

__all__ = [
    "FitResult",
    "TargetScaler",
    "TrainConfig",
    "TrainResult",
    "compile_model",
    "config_frame",
    "fit_predict",
    "has_gpu",
    "measure_throughput",
    "predict",
    "train_model",
    "training_targets",
]


Task = Literal["classification", "regression"]


def _check_task(task: str) -> None:
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")


def _check_pos(name: str, value: Any) -> None:
    if not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


# --------------------------------------------------------------------------------------
# training options
# --------------------------------------------------------------------------------------

HUBER_DELTA = 1.0
"""Huber's switch from squared to absolute loss, in units of the standardised target."""

REDUCE_LR_FACTOR = 0.5
"""``ReduceLROnPlateau`` multiplies the learning rate by this when the validation loss stalls."""

MIN_LR = 1e-5
"""The floor of the learning-rate reduction."""

MULTITASK_LOSS_WEIGHTS = (0.5, 0.5)
"""Loss weights of a two-output model's heads (:func:`lobutils.models.deeplob.build_multitask`)."""


@dataclass(frozen=True)
class TrainConfig:
    """Training options, each one switchable.

    Fixed choices that no caller varies are module constants: the Huber loss's ``delta`` of 1
    (:data:`HUBER_DELTA`), regression targets always standardised with the training rows'
    mean and std, the learning-rate reduction's factor 0.5 and floor 1e-5
    (:data:`REDUCE_LR_FACTOR`, :data:`MIN_LR`), and the two heads of a multi-task model
    weighted 0.5 / 0.5 (:data:`MULTITASK_LOSS_WEIGHTS`).

    Parameters
    ----------
    epochs : int
        Maximum epochs (early stopping may end sooner).
    batch_size : int
        Training windows per step.
    learning_rate : float
        Adam's learning rate.
    adam_epsilon : float
        Adam's epsilon (DeepLOB's authors used 1.0 with a learning rate of 0.01).
    loss : {"auto", "crossentropy", "mse", "huber"}
        ``"auto"``: cross-entropy for classification, Huber for regression.
    clipnorm : float or None
        Gradient clipping by global norm.
    ema_alpha : float or None
        Regression: train on the EMA-smoothed forward return
        (:func:`lobutils.features.targets.ema_smoothed_returns`, an earlier project's target); evaluation
        is always on the raw forward return.
    class_weight : {"none", "balanced"}
        Classification: weight classes inversely to their training frequency.
    early_stopping_patience : int or None
        Epochs without a better validation loss before stopping (best weights restored).
    reduce_lr_patience : int or None
        Epochs without a better validation loss before the learning rate is multiplied by
        :data:`REDUCE_LR_FACTOR` (not below :data:`MIN_LR`).
    run_eagerly : bool
        Skip graph compilation: slower per step, but much quicker to start, which wins for
        tiny models and data (tests, doctests).
    seed : int
        Seeds Keras, NumPy and Python (:func:`keras.utils.set_random_seed`) and the shuffling.

    Examples
    --------
    >>> TrainConfig(epochs=3).loss_for("regression"), TrainConfig().loss_for("classification")
    ('huber', 'crossentropy')
    """

    epochs: int = 10
    batch_size: int = 64
    learning_rate: float = 1e-3
    adam_epsilon: float = 1e-7
    loss: Literal["auto", "crossentropy", "mse", "huber"] = "auto"
    clipnorm: float | None = 1.0
    ema_alpha: float | None = None
    class_weight: Literal["none", "balanced"] = "none"
    early_stopping_patience: int | None = 3
    reduce_lr_patience: int | None = 2
    run_eagerly: bool = False
    seed: int = 0

    def __post_init__(self) -> None:
        _check_pos("epochs", self.epochs)
        _check_pos("batch_size", self.batch_size)
        if self.loss not in ("auto", "crossentropy", "mse", "huber"):
            raise ValueError(f"unknown loss {self.loss!r}")
        if self.ema_alpha is not None and not 0 < self.ema_alpha <= 1:
            raise ValueError(f"ema_alpha must lie in (0, 1], got {self.ema_alpha}")
        if self.class_weight not in ("none", "balanced"):
            raise ValueError("class_weight must be 'none' or 'balanced'")
        for nm in ("early_stopping_patience", "reduce_lr_patience"):
            v = getattr(self, nm)
            if v is not None:
                _check_pos(nm, v)

    def loss_for(self, task: Task) -> str:
        """The loss name for a task.

        Parameters
        ----------
        task : {"classification", "regression"}
            What the model solves.

        Returns
        -------
        str
            ``"crossentropy"``, ``"mse"`` or ``"huber"``; ``loss="auto"`` gives cross-entropy
            for a classifier and Huber for a regression.

        Raises
        ------
        ValueError
            When the configured loss does not fit the task.
        """
        _check_task(task)
        if self.loss == "auto":
            return "crossentropy" if task == "classification" else "huber"
        if task == "classification" and self.loss != "crossentropy":
            raise ValueError(f"a classifier trains on cross-entropy, not {self.loss!r}")
        if task == "regression" and self.loss == "crossentropy":
            raise ValueError("a regression cannot train on cross-entropy")
        return self.loss


def has_gpu() -> bool:
    """Whether the active Keras backend sees a GPU (checked once, cheaply, per backend).

    Returns
    -------
    bool
        True when TensorFlow, JAX or PyTorch (the active backend) lists a GPU; False on a
        broken driver.

    Examples
    --------
    >>> isinstance(has_gpu(), bool)
    True
    """
    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
    except Exception:  # noqa: BLE001 - a broken driver means no usable GPU
        return False
    return False


def _loss_object(name: str):
    if name == "crossentropy":
        return keras.losses.SparseCategoricalCrossentropy()
    if name == "huber":
        return keras.losses.Huber(delta=HUBER_DELTA)
    return keras.losses.MeanSquaredError()


def compile_model(model: keras.Model, task: Task, config: TrainConfig | None = None) -> keras.Model:
    """Compile ``model`` in place with Adam and the config's loss; returns it.

    A model with two named outputs (:func:`lobutils.models.deeplob.build_multitask`) gets one
    loss per output, weighted by :data:`MULTITASK_LOSS_WEIGHTS`.

    Parameters
    ----------
    model : keras.Model
        The uncompiled model (one output, or two named ones).
    task : {"classification", "regression"}
        Chooses the loss (:meth:`TrainConfig.loss_for`) and the accuracy metric.
    config : TrainConfig, optional
        Learning rate, Adam epsilon, clipping, loss and eager mode; the defaults when None.

    Returns
    -------
    keras.Model
        ``model`` itself, compiled.

    Raises
    ------
    ValueError
        For a multi-output model whose outputs do not match the two loss weights.

    Examples
    --------
    >>> from lobutils.models.deeplob import build_cnn_classifier
    >>> m = compile_model(build_cnn_classifier(T=8, n_features=8), "classification")
    >>> type(m.optimizer).__name__, type(m.loss).__name__
    ('Adam', 'SparseCategoricalCrossentropy')
    """
    cfg = config or TrainConfig()
    name = cfg.loss_for(task)
    opt = keras.optimizers.Adam(
        learning_rate=cfg.learning_rate, epsilon=cfg.adam_epsilon, clipnorm=cfg.clipnorm
    )
    metrics: Any = ["accuracy"] if task == "classification" else None
    outs = list(model.output_names)
    if len(outs) > 1:
        if len(outs) != len(MULTITASK_LOSS_WEIGHTS):
            raise ValueError(f"{len(outs)} outputs but loss weights {MULTITASK_LOSS_WEIGHTS}")
        loss: Any = {o: _loss_object(name) for o in outs}
        weights: Any = dict(zip(outs, MULTITASK_LOSS_WEIGHTS, strict=True))
        if metrics:
            metrics = {o: ["accuracy"] for o in outs}
    else:
        loss, weights = _loss_object(name), None
    model.compile(
        optimizer=opt,
        loss=loss,
        loss_weights=weights,
        metrics=metrics,
        jit_compile=False if cfg.run_eagerly else "auto",
        run_eagerly=cfg.run_eagerly,
    )
    return model


@dataclass(frozen=True)
class TargetScaler:
    """``(y - mean) / std`` with the training rows' statistics (per output column).

    Build it with :meth:`fit` on the training targets only.

    Parameters
    ----------
    mean : numpy.ndarray
        Mean of the training targets, per column.
    std : numpy.ndarray
        Their standard deviation, per column (1 where it is zero).

    Examples
    --------
    >>> s = TargetScaler.fit(np.array([1.0, 3.0]))
    >>> s.transform(np.array([3.0])).tolist(), s.inverse(np.array([-1.0])).tolist()
    ([1.0], [1.0])
    """

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, y_train: np.ndarray) -> TargetScaler:
        """The scaler of the training targets.

        Parameters
        ----------
        y_train : numpy.ndarray
            Targets of the training rows, ``(N,)`` or ``(N, n_outputs)``.

        Returns
        -------
        TargetScaler
            Their mean and standard deviation per column.

        Raises
        ------
        ValueError
            When the targets are empty or not all finite.
        """
        y = np.asarray(y_train, dtype=np.float64)
        if y.size == 0 or not np.isfinite(y).all():
            raise ValueError("training targets must be finite and non-empty")
        sd = y.std(axis=0)
        return cls(np.asarray(y.mean(axis=0)), np.asarray(np.where(sd > 0, sd, 1.0)))

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Standardise targets.

        Parameters
        ----------
        y : numpy.ndarray
            Targets in their own units (bps).

        Returns
        -------
        numpy.ndarray
            ``(y - mean) / std`` as float32.
        """
        return ((np.asarray(y, dtype=np.float64) - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Undo :meth:`transform`.

        Parameters
        ----------
        z : numpy.ndarray
            Standardised values (a model's predictions).

        Returns
        -------
        numpy.ndarray
            ``z * std + mean`` as float64, in the targets' units.
        """
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


def training_targets(raw: np.ndarray, ema_alpha: float | None = None) -> np.ndarray:
    """The regression target a model trains on: the raw forward return, or its EMA.

    The EMA runs over the whole series in row order (:func:`lobutils.features.targets.ema_smoothed_returns`),
    so the smoothed target of row ``t`` mixes the forward returns of earlier rows. It is a
    *training* target only: :func:`fit_predict` scores predictions on ``raw``.

    Parameters
    ----------
    raw : numpy.ndarray
        Forward returns (bps), ``(N,)`` or ``(N, n_outputs)``, in row order.
    ema_alpha : float, optional
        Smoothing weight of the EMA; None returns ``raw`` unchanged.

    Returns
    -------
    numpy.ndarray
        The targets as float64, the shape of ``raw``.

    Examples
    --------
    >>> training_targets(np.array([4.0, 0.0, 0.0]), ema_alpha=0.5).tolist()
    [4.0, 2.0, 1.0]
    """
    r = np.asarray(raw, dtype=np.float64)
    if ema_alpha is None:
        return r
    from lobutils.features.targets import ema_smoothed_returns

    if r.ndim == 1:
        return ema_smoothed_returns(r, alpha=ema_alpha)
    return np.column_stack([ema_smoothed_returns(c, alpha=ema_alpha) for c in r.T])


# --------------------------------------------------------------------------------------
# resumable training
# --------------------------------------------------------------------------------------

_MODEL_FILE = "last.keras"
_BEST_FILE = "best.weights.h5"
_STATE_FILE = "state.json"


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class _Resume(keras.callbacks.Callback):
    """Records the history; with a directory, saves the model after every epoch.

    ``last.keras`` is the whole model with its optimizer state after the last finished epoch
    (after training, the model as returned: best weights restored); ``best.weights.h5`` the
    weights of the epoch with the best monitored loss; ``state.json`` the epoch count, the
    history and whether the run finished.
    """

    def __init__(self, directory: Path | None, history: list[dict[str, float]], monitor: str):
        super().__init__()
        self.directory = directory
        self.history = history
        self.monitor = monitor
        vals = [h[monitor] for h in history if monitor in h]
        self.best = min(vals) if vals else math.inf
        self.t0 = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.t0 = time.perf_counter()

    def _save_state(self, finished: bool) -> None:
        state = {"epoch": len(self.history), "history": self.history, "finished": finished}
        _atomic_write_text(self.directory / _STATE_FILE, json.dumps(state))

    def _save_model(self) -> None:
        tmp = self.directory / f".tmp.{_MODEL_FILE}"
        self.model.save(tmp)
        os.replace(tmp, self.directory / _MODEL_FILE)

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": int(epoch) + 1}
        for k, v in (logs or {}).items():
            row[k] = float(v)
        row["learning_rate"] = float(ops.convert_to_numpy(self.model.optimizer.learning_rate.value))
        row["seconds"] = time.perf_counter() - self.t0
        self.history.append(row)
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        current = row.get(self.monitor, math.inf)
        if current < self.best:
            self.best = current
            tmp = self.directory / f".tmp.{_BEST_FILE}"
            self.model.save_weights(tmp)
            os.replace(tmp, self.directory / _BEST_FILE)
        self._save_model()
        self._save_state(finished=False)

    def on_train_end(self, logs=None):
        if self.directory is None or not self.history:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._save_model()
        self._save_state(finished=True)


class _EarlyStopping(keras.callbacks.EarlyStopping):
    """EarlyStopping that starts from a resumed run's best value, wait count and best weights."""

    def __init__(self, *args, initial: tuple[float, int, list] | None = None, **kw):
        super().__init__(*args, **kw)
        self._initial = initial

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        if self._initial is not None:
            self.best, self.wait, self.best_weights = self._initial


@dataclass(frozen=True, eq=False)
class TrainResult:
    """A trained model and its learning curves.

    Attributes
    ----------
    model : keras.Model
        The trained model, with the best validation weights when early stopping restored them.
    history : pandas.DataFrame
        One row per epoch (including epochs of earlier, resumed runs): ``epoch``, ``loss``,
        ``val_loss`` (and the metrics), ``learning_rate``, ``seconds`` (since that run began).
    epochs_run : int
        Epochs trained by this call (0 when the checkpoint was already complete).
    resumed_from : int
        Epochs already done in the checkpoint when this call started.
    seconds : float
        Wall time of this call's training.
    samples_per_s : float
        Training samples per second in this call (NaN when no epoch ran).
    stopped_early : bool
        Whether early stopping ended the training before ``config.epochs``.
    """

    model: keras.Model = field(repr=False)
    history: pd.DataFrame = field(repr=False)
    epochs_run: int
    resumed_from: int
    seconds: float
    samples_per_s: float
    stopped_early: bool


def _class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    counts = np.bincount(np.asarray(y, dtype=np.int64), minlength=n_classes).astype(float)
    w = np.where(counts > 0, counts.sum() / (n_classes * np.maximum(counts, 1)), 0.0)
    return {int(k): float(v) for k, v in enumerate(w)}


def train_model(
    model: keras.Model | Callable[[], keras.Model],
    train: keras.utils.PyDataset,
    val: keras.utils.PyDataset | None,
    task: Task,
    config: TrainConfig | None = None,
    *,
    checkpoint_dir: str | os.PathLike[str] | None = None,
) -> TrainResult:
    """Compile and fit a model with early stopping, LR reduction and resumable checkpoints.

    With ``checkpoint_dir``, the whole model (weights and optimizer state), the best weights
    so far and the history are saved after every epoch. A later call with the same directory
    loads them and continues from the next epoch up to ``config.epochs``: an interrupted run
    resumes where it stopped, a finished one is not trained again (the saved model and history
    are returned), and a finished one asked for more epochs goes on from its returned model.
    Early stopping resumes with the saved best loss, patience count and best weights;
    ``ReduceLROnPlateau`` restarts its patience (the learning rate itself is in the optimizer
    state). Delete the directory to start over.

    Parameters
    ----------
    model : keras.Model or callable
        The uncompiled model, or a function that builds it (called only when there is no
        checkpoint to resume).
    train, val : keras.utils.PyDataset
        E.g. :class:`lobutils.models.windows.WindowDataset`; ``val`` drives early stopping
        and LR reduction (without it they watch the training loss).
    task : {"classification", "regression"}
        What the model solves (chooses the loss, :meth:`TrainConfig.loss_for`).
    config : TrainConfig, optional
        Training options; the defaults when None.
    checkpoint_dir : path-like, optional
        Where the run's checkpoints live; without it nothing is saved or resumed.

    Returns
    -------
    TrainResult
        The trained model, its learning curves and its speed.

    Examples
    --------
    >>> from lobutils.models.deeplob import build_cnn_classifier
    >>> from lobutils.models.windows import WindowDataset
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 8)).astype("float32")
    >>> y = (X[:, 0] > 0).astype("int64")
    >>> ends = np.arange(3, 64)
    >>> ds = WindowDataset(X, ends, T=4, y=y[ends], batch_size=16)
    >>> res = train_model(build_cnn_classifier(T=4, n_features=8), ds, None, "classification",
    ...                   TrainConfig(epochs=2, run_eagerly=True))
    >>> res.epochs_run, list(res.history["epoch"])
    (2, [1, 2])
    """
    _check_task(task)
    cfg = config or TrainConfig()
    keras.utils.set_random_seed(cfg.seed)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    monitor = "val_loss" if val is not None else "loss"
    history: list[dict[str, float]] = []
    was_stopped = False
    if ckpt is not None and (ckpt / _MODEL_FILE).is_file() and (ckpt / _STATE_FILE).is_file():
        state = json.loads((ckpt / _STATE_FILE).read_text())
        history = list(state["history"])
        net = keras.models.load_model(ckpt / _MODEL_FILE, compile=True)
    else:
        net = model() if callable(model) and not isinstance(model, keras.Model) else model
        compile_model(net, task, cfg)
    done = len(history)
    callbacks: list[keras.callbacks.Callback] = []
    stopper = None
    if cfg.early_stopping_patience is not None:
        vals = [h[monitor] for h in history if monitor in h]
        initial = None
        if vals:
            best_i = int(np.argmin(vals))
            wait = len(vals) - 1 - best_i
            weights = net.get_weights()
            if (ckpt / _BEST_FILE).is_file():
                net.load_weights(ckpt / _BEST_FILE)
            best_w = net.get_weights()
            net.set_weights(weights)
            initial = (float(vals[best_i]), wait, best_w)
            # The saved run had stopped early (as Keras decides it): nothing left to do.
            was_stopped = wait >= cfg.early_stopping_patience and len(vals) > 1
        stopper = _EarlyStopping(
            monitor=monitor,
            patience=cfg.early_stopping_patience,
            restore_best_weights=True,
            initial=initial,
        )
        callbacks.append(stopper)
    if cfg.reduce_lr_patience is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor,
                factor=REDUCE_LR_FACTOR,
                patience=cfg.reduce_lr_patience,
                min_lr=MIN_LR,
            )
        )
    callbacks.append(_Resume(ckpt, history, monitor))
    kw: dict[str, Any] = {}
    if task == "classification" and cfg.class_weight == "balanced":
        y_all = getattr(train, "y", None)
        if isinstance(y_all, np.ndarray):
            kw["class_weight"] = _class_weights(y_all, int(net.output_shape[-1]))
    ran = 0
    t0 = time.perf_counter()
    stopped_early = was_stopped
    if done < cfg.epochs and not was_stopped:
        net.fit(
            train,
            validation_data=val,
            epochs=cfg.epochs,
            initial_epoch=done,
            callbacks=callbacks,
            verbose=0,
            **kw,
        )
        ran = len(history) - done
        stopped_early = bool(stopper is not None and stopper.stopped_epoch > 0)
    secs = time.perf_counter() - t0
    n_train = int(getattr(train, "n_samples", 0)) or len(train) * cfg.batch_size
    rate = ran * n_train / secs if ran and secs > 0 else math.nan
    return TrainResult(net, pd.DataFrame(history), ran, done, secs, rate, stopped_early)


def predict(model: keras.Model, data: keras.utils.PyDataset) -> np.ndarray | dict[str, np.ndarray]:
    """Predictions over every batch of ``data`` in order (a dict for multi-output models).

    Parameters
    ----------
    model : keras.Model
        A built (trained) model.
    data : keras.utils.PyDataset
        Its inputs, e.g. a :class:`lobutils.models.windows.WindowDataset`, not shuffled.

    Returns
    -------
    numpy.ndarray or dict of str to numpy.ndarray
        One row per sample of ``data``; one array per output name for a multi-output model.

    Examples
    --------
    >>> from lobutils.models.deeplob import build_cnn_classifier
    >>> from lobutils.models.windows import WindowDataset
    >>> X = np.zeros((10, 8), "float32")
    >>> p = predict(build_cnn_classifier(T=3, n_features=8), WindowDataset(X, np.arange(2, 10), T=3))
    >>> p.shape
    (8, 3)
    """
    out = model.predict(data, verbose=0)
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    return np.asarray(out)


@dataclass(frozen=True, eq=False)
class FitResult:
    """What :func:`fit_predict` returns.

    Attributes
    ----------
    train : TrainResult
        The training run (:func:`train_model`).
    y_true : numpy.ndarray or dict
        The *raw* targets of the test windows (class codes, or forward returns in the units
        given), whatever the model trained on.
    y_pred : numpy.ndarray or dict
        Predicted classes, or predicted values back in the target's units.
    proba : numpy.ndarray or dict or None
        Class probabilities (classification).
    val_pred : numpy.ndarray or dict
        The same on the validation windows (for tuning or a threshold).
    scaler : TargetScaler or dict or None
        The training-target standardisation (regression).
    trained_on : str
        ``"raw"`` or ``"ema(alpha)"``.
    """

    train: TrainResult = field(repr=False)
    y_true: Any = field(repr=False)
    y_pred: Any = field(repr=False)
    proba: Any = field(repr=False)
    val_pred: Any = field(repr=False)
    scaler: Any = field(repr=False)
    trained_on: str


def _as_outputs(y: Any) -> dict[str, np.ndarray] | np.ndarray:
    if isinstance(y, Mapping):
        return {str(k): np.asarray(v) for k, v in y.items()}
    return np.asarray(y)


def fit_predict(
    model: keras.Model | Callable[[], keras.Model],
    make_dataset: Callable[..., keras.utils.PyDataset],
    y: np.ndarray | Mapping[str, np.ndarray],
    *,
    train_ends: np.ndarray,
    val_ends: np.ndarray,
    test_ends: np.ndarray,
    task: Task,
    config: TrainConfig | None = None,
    checkpoint_dir: str | os.PathLike[str] | None = None,
) -> FitResult:
    """Train on the training windows, stop on the validation windows, predict the test windows.

    ``y`` holds the raw target of **every row** (a forward return in bps, or class codes), or a
    dict of them for a multi-output model; the window ending at row ``e`` is labelled
    ``y[e]``. For a regression, the training target is ``training_targets(y, ema_alpha)``,
    standardised with the training windows' mean and std; the
    predictions are transformed back and scored against the raw ``y`` of the test windows.

    Parameters
    ----------
    model : keras.Model or callable
        Uncompiled model or builder (see :func:`train_model`).
    make_dataset : callable
        ``make_dataset(ends, y=None, shuffle=False)`` -> a PyDataset serving those windows,
        e.g. ``functools.partial(WindowDataset, data, T=T, normalizer=norm, batch_size=64)``.
    y : array (N,) or dict of arrays (N,)
        The raw target of every row of the data (one array per output name for a
        multi-output model); the target scaler is fitted on the training windows only.
    train_ends, val_ends, test_ends : arrays of int
        Rows where the windows end.
    task : {"classification", "regression"}
        What the model solves.
    config : TrainConfig, optional
        Training options; the defaults when None.
    checkpoint_dir : path-like, optional
        Where the run's checkpoints live (see :func:`train_model`).

    Returns
    -------
    FitResult
        The training run and the test (and validation) predictions on the raw targets' scale.

    Examples
    --------
    Labelled synthetic data: the target is the sum of the last row's first column.

    >>> from functools import partial
    >>> from lobutils.models.deeplob import build_l1_lstm
    >>> from lobutils.models.windows import WindowDataset
    >>> rng = np.random.default_rng(1)
    >>> X = rng.normal(size=(120, 8)).astype("float32")
    >>> y = 5.0 + 2.0 * X[:, 0]
    >>> mk = partial(WindowDataset, X, T=4, batch_size=16)
    >>> res = fit_predict(lambda: build_l1_lstm(T=4, n_features=8, n_outputs=1), mk, y,
    ...                   train_ends=np.arange(3, 80), val_ends=np.arange(83, 100),
    ...                   test_ends=np.arange(103, 120), task="regression",
    ...                   config=TrainConfig(epochs=1, ema_alpha=0.5, run_eagerly=True))
    >>> res.trained_on, bool(np.allclose(res.y_true, y[103:120])), res.y_pred.shape
    ('ema(0.5)', True, (17,))
    """
    _check_task(task)
    cfg = config or TrainConfig()
    raw = _as_outputs(y)
    tr, va, te = (np.asarray(e, dtype=np.int64) for e in (train_ends, val_ends, test_ends))
    multi = isinstance(raw, dict)
    names = list(raw) if multi else [None]

    def col(name):
        return raw[name] if multi else raw

    scalers: dict[Any, TargetScaler] = {}
    fit_y: dict[Any, np.ndarray] = {}
    trained_on = "raw"
    for nm in names:
        r = col(nm)
        if task == "regression":
            t = training_targets(r, cfg.ema_alpha)
            if cfg.ema_alpha is not None:
                trained_on = f"ema({cfg.ema_alpha:g})"
            sc = TargetScaler.fit(t[tr])
            scalers[nm] = sc
            fit_y[nm] = sc.transform(t)
        else:
            fit_y[nm] = np.asarray(r, dtype=np.int64)

    def labels(ends):
        if multi:
            return {nm: fit_y[nm][ends] for nm in names}
        return fit_y[None][ends]

    train_ds = make_dataset(tr, y=labels(tr), shuffle=True)
    val_ds = make_dataset(va, y=labels(va)) if va.size else None
    result = train_model(model, train_ds, val_ds, task, cfg, checkpoint_dir=checkpoint_dir)

    def decode(pred, nm):
        if task == "classification":
            return np.argmax(pred, axis=-1), pred
        p = scalers[nm].inverse(pred)
        return (p[:, 0] if p.ndim == 2 and p.shape[1] == 1 else p), None

    def run(ends):
        if ends.size == 0:
            return ({nm: np.empty(0) for nm in names} if multi else np.empty(0)), None
        out = predict(result.model, make_dataset(ends))
        if multi:
            dec = {nm: decode(out[nm], nm) for nm in names}
            return {nm: d[0] for nm, d in dec.items()}, {nm: d[1] for nm, d in dec.items()}
        return decode(out, None)

    y_pred, proba = run(te)
    val_pred, _ = run(va)
    y_true = {nm: col(nm)[te] for nm in names} if multi else col(None)[te]
    scaler = (scalers if multi else scalers.get(None)) if task == "regression" else None
    return FitResult(result, y_true, y_pred, proba, val_pred, scaler, trained_on)


def measure_throughput(
    model: keras.Model,
    task: Task = "classification",
    *,
    batch_size: int = 64,
    steps: int = 10,
    warmup: int = 2,
    config: TrainConfig | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """Training samples per second of a model on random inputs of its shape.

    Compiles the model (unless it is compiled), runs ``warmup`` training steps (graph tracing
    and compilation happen there) and times ``steps`` more with ``train_on_batch``: the pure
    training speed, without data loading or validation.

    Parameters
    ----------
    model : keras.Model
        The model; compiled here when it is not.
    task : {"classification", "regression"}
        What the random targets are: class labels or normal values.
    batch_size : int
        Samples per training step.
    steps : int
        Timed training steps.
    warmup : int
        Untimed steps first.
    config : TrainConfig, optional
        Used to compile an uncompiled model.
    seed : int
        Seed of the random inputs and targets.

    Returns
    -------
    dict
        ``samples_per_s``, ``seconds``, ``steps``, ``batch_size``, ``backend``.

    Examples
    --------
    >>> from lobutils.models.deeplob import build_cnn_classifier
    >>> r = measure_throughput(build_cnn_classifier(T=8, n_features=8), steps=2, warmup=1)
    >>> r["samples_per_s"] > 0, r["steps"]
    (True, 2)
    """
    _check_task(task)
    if not getattr(model, "compiled", False):
        compile_model(model, task, config)
    rng = np.random.default_rng(seed)
    shape = (batch_size, *model.input_shape[1:])
    x = rng.normal(size=shape).astype("float32")
    outs = list(model.output_names)

    def target(n_out: int):
        if task == "classification":
            return rng.integers(0, n_out, size=batch_size)
        return rng.normal(size=(batch_size, n_out)).astype("float32")

    shapes = model.output_shape if len(outs) > 1 else [model.output_shape]
    ys = [target(int(s[-1])) for s in shapes]
    y: Any = dict(zip(outs, ys, strict=True)) if len(outs) > 1 else ys[0]
    for _ in range(max(0, warmup)):
        model.train_on_batch(x, y)
    t0 = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    secs = time.perf_counter() - t0
    return {
        "samples_per_s": steps * batch_size / secs if secs > 0 else math.nan,
        "seconds": secs,
        "steps": int(steps),
        "batch_size": int(batch_size),
        "backend": keras.backend.backend(),
    }


def config_frame(*configs: Any) -> pd.DataFrame:
    """One row per frozen config (DeepLOBConfig, TrainConfig): its fields as columns.

    Parameters
    ----------
    *configs : dataclass instances
        The configs, in the order of the rows.

    Returns
    -------
    pandas.DataFrame
        One row per config, one column per dataclass field.

    Examples
    --------
    >>> int(config_frame(TrainConfig(epochs=2)).loc[0, "epochs"])
    2
    """
    rows = []
    for c in configs:
        d = asdict(c)
        rows.append({f.name: d[f.name] for f in fields(c)})
    return pd.DataFrame(rows)
