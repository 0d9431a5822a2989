"""The DeepLOB family in Keras 3: model builders and their frozen config.

Every model here is written with Keras layers and :mod:`keras.ops` only, so the same code runs
with the TensorFlow backend (the default), JAX or PyTorch (``KERAS_BACKEND``). Inputs are
windows of ``T`` book states with ``n_features`` columns each, shape ``(batch, T, n_features)``;
:class:`lobutils.models.windows.WindowDataset` serves them from a (memory-mapped) 2-D array
without a materialised ``(N, T, n_features)`` copy.

Builders
--------
:func:`build_deeplob`
    DeepLOB (Zhang, Zohren & Roberts 2019): three convolution blocks over the book (the first
    two with ``(1, 2)`` strides that pair price with size, then bid with ask; the third a
    ``(1, L)`` convolution across the levels), an Inception module, an LSTM(64) and a
    classification (softmax) or regression (linear) head. The defaults are the paper's
    classifier: **142,435 parameters**, the count of the authors' Keras code (see the builder).
:func:`build_deeplob_tcn`
    The same convolution and Inception front end with causal dilated 1-D convolutions
    (dilations 1, 2, 4, 8; kernel 3) in place of the LSTM.
:func:`build_multitask`
    Shared front end, a short- and a long-horizon branch (e.g. 10 s and 60 s), cross-attention
    from the long branch to the short one and a learned gate that mixes them; two heads,
    trained with loss weights 0.5 / 0.5.
:func:`build_cnn_classifier`
    A small 1-D CNN classifier (two convolutions over time, a few thousand parameters): a
    cheap rival for DeepLOB.
:func:`build_l1_lstm`
    A small LSTM that forecasts the future level-1 state (the change of the best bid, best ask
    and mid at ``t + h``).
:class:`DeepLOBConfig`
    A model of the family by name and size, as a frozen config.

Training lives in :mod:`lobutils.models.training` (:class:`~lobutils.models.training.TrainConfig`,
:func:`~lobutils.models.training.train_model`, :func:`~lobutils.models.training.fit_predict`).
Its names are also importable from here, for code written before the split.

Examples
--------
>>> m = build_deeplob()
>>> m.count_params(), m.input_shape, m.output_shape
(142435, (None, 100, 40), (None, 3))
>>> build_deeplob(task="regression").output_shape
(None, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import keras
from keras import layers, ops

# The training loop's names, re-exported for code that imports them from here.
from lobutils.models.training import Task, _check_pos, _check_task

__all__ = [
    "DEEPLOB_KERAS_PARAMS",
    "DEEPLOB_PYTORCH_PARAMS",
    "DeepLOBConfig",
    "GatedFusion",
    "build_cnn_classifier",
    "build_deeplob",
    "build_deeplob_tcn",
    "build_l1_lstm",
    "build_multitask",
]

DEEPLOB_KERAS_PARAMS = 142_435
"""Parameters of DeepLOB's classifier in the authors' Keras code (no batch normalisation)."""

DEEPLOB_PYTORCH_PARAMS = 143_907
"""Parameters of the authors' PyTorch port: 1,216 batch-norm scales and shifts more (14 layers),
and a second LSTM bias vector (256), as ``torch.nn.LSTM`` keeps ``b_ih`` and ``b_hh``."""

# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------


def _act(x, activation: str, alpha: float, name: str):
    if activation == "leaky_relu":
        return layers.LeakyReLU(negative_slope=alpha, name=name)(x)
    return layers.Activation(activation, name=name)(x)


def _conv2d(x, filters, kernel, name, *, strides=(1, 1), padding="valid", act, alpha, bn):
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, name=name)(x)
    x = _act(x, act, alpha, f"{name}_act")
    if bn:
        x = layers.BatchNormalization(name=f"{name}_bn")(x)
    return x


def _deeplob_front(
    inputs,
    T: int,
    n_features: int,
    *,
    conv_filters: int,
    inception_filters: int,
    leaky_alpha: float,
    activation: str,
    batch_norm: bool,
    dropout: float,
):
    """Convolution blocks and Inception module: (batch, T, F) -> (batch, T, 3 x inception)."""
    if n_features % 4 or n_features < 4:
        raise ValueError(
            f"n_features must be 4 x levels (ask px, ask qty, bid px, bid qty per level), "
            f"got {n_features}"
        )
    kw = {"act": activation, "alpha": leaky_alpha, "bn": batch_norm}
    f = conv_filters
    x = layers.Reshape((T, n_features, 1), name="add_channel")(inputs)
    # block 1: (1, 2) stride 2 pairs each price with its size -> F/2 columns
    x = _conv2d(x, f, (1, 2), "conv1a", strides=(1, 2), **kw)
    x = _conv2d(x, f, (4, 1), "conv1b", padding="same", **kw)
    x = _conv2d(x, f, (4, 1), "conv1c", padding="same", **kw)
    # block 2: (1, 2) stride 2 pairs the ask and the bid side of each level -> F/4 columns
    x = _conv2d(x, f, (1, 2), "conv2a", strides=(1, 2), **kw)
    x = _conv2d(x, f, (4, 1), "conv2b", padding="same", **kw)
    x = _conv2d(x, f, (4, 1), "conv2c", padding="same", **kw)
    # block 3: one (1, L) convolution across all levels -> one column
    x = _conv2d(x, f, (1, n_features // 4), "conv3a", **kw)
    x = _conv2d(x, f, (4, 1), "conv3b", padding="same", **kw)
    x = _conv2d(x, f, (4, 1), "conv3c", padding="same", **kw)
    # Inception module: 1x1 -> 3x1, 1x1 -> 5x1, and 3x1 max-pool -> 1x1, over time
    g = inception_filters
    b1 = _conv2d(x, g, (1, 1), "inc1a", padding="same", **kw)
    b1 = _conv2d(b1, g, (3, 1), "inc1b", padding="same", **kw)
    b2 = _conv2d(x, g, (1, 1), "inc2a", padding="same", **kw)
    b2 = _conv2d(b2, g, (5, 1), "inc2b", padding="same", **kw)
    b3 = layers.MaxPooling2D((3, 1), strides=(1, 1), padding="same", name="inc3_pool")(x)
    b3 = _conv2d(b3, g, (1, 1), "inc3a", padding="same", **kw)
    x = layers.Concatenate(axis=-1, name="inception")([b1, b2, b3])
    x = layers.Reshape((T, 3 * g), name="to_sequence")(x)
    if dropout > 0:
        # Drops whole feature channels for every time step (the reference's noise_shape).
        x = layers.SpatialDropout1D(dropout, name="channel_dropout")(x)
    return x


def _head(x, task: str, n_classes: int, n_outputs: int, name: str):
    if task == "classification":
        return layers.Dense(n_classes, activation="softmax", name=name, dtype="float32")(x)
    return layers.Dense(n_outputs, name=name, dtype="float32")(x)


# --------------------------------------------------------------------------------------
# DeepLOB
# --------------------------------------------------------------------------------------


def build_deeplob(
    T: int = 100,
    n_features: int = 40,
    n_classes: int = 3,
    task: Task = "classification",
    *,
    n_outputs: int = 1,
    conv_filters: int = 32,
    inception_filters: int = 64,
    lstm_units: int = 64,
    leaky_alpha: float = 0.01,
    activation: str = "leaky_relu",
    batch_norm: bool = False,
    dropout: float = 0.2,
    name: str = "deeplob",
) -> keras.Model:
    """DeepLOB (Zhang, Zohren & Roberts 2019), uncompiled.

    The layout follows the authors' Keras code (``create_deeplob`` in their repository):
    ``(4, 1)`` convolutions with ``"same"`` padding (so the time axis keeps its ``T`` steps), no
    batch normalisation, LeakyReLU(0.01) after every convolution, a channel dropout of 0.2
    before the LSTM, and a dense softmax head. With the defaults that is **142,435**
    parameters: 37,216 in the three convolution blocks, 39,232 in the Inception module, 65,792
    in the LSTM(64) and 195 in the head. Their PyTorch port has 143,907
    (:data:`DEEPLOB_PYTORCH_PARAMS`): with ``batch_norm=True`` this builder adds the same
    batch-norm layers (1,216 trainable parameters and as many non-trainable statistics), and
    PyTorch's LSTM has a second bias vector (256).

    Parameters
    ----------
    T : int
        Time steps per input window.
    n_features : int
        Columns per step, ``4 x levels`` in the order ask price, ask size, bid price, bid size
        per level (FI-2010's order; :func:`lobutils.models.windows.lob_matrix`).
    n_classes : int
        Classes of the softmax head (``task="classification"``).
    task : {"classification", "regression"}
        A softmax head over ``n_classes`` or a linear head of ``n_outputs`` values.
    n_outputs : int
        Outputs of the linear head (``task="regression"``).
    conv_filters, inception_filters, lstm_units : int
        Widths (32, 64, 64 in the paper).
    leaky_alpha : float
        Negative slope of the LeakyReLU.
    activation : str
        ``"leaky_relu"`` or any Keras activation name (``"tanh"``, ``"relu"``).
    batch_norm : bool
        Batch normalisation after every convolution (the PyTorch port's layout).
    dropout : float
        Channel dropout before the recurrent layer (0 turns it off).
    name : str
        Name of the Keras model.

    Returns
    -------
    keras.Model
        Input ``(batch, T, n_features)``; output ``(batch, n_classes)`` probabilities or
        ``(batch, n_outputs)`` values.

    Examples
    --------
    >>> build_deeplob(T=20, n_features=8, task="regression", n_outputs=2).output_shape
    (None, 2)
    """
    _check_task(task)
    for nm, v in (("T", T), ("n_classes", n_classes), ("n_outputs", n_outputs)):
        _check_pos(nm, v)
    inputs = keras.Input((T, n_features), name="lob")
    x = _deeplob_front(
        inputs,
        T,
        n_features,
        conv_filters=conv_filters,
        inception_filters=inception_filters,
        leaky_alpha=leaky_alpha,
        activation=activation,
        batch_norm=batch_norm,
        dropout=dropout,
    )
    x = layers.LSTM(lstm_units, name="lstm")(x)
    return keras.Model(inputs, _head(x, task, n_classes, n_outputs, "out"), name=name)


def build_deeplob_tcn(
    T: int = 100,
    n_features: int = 40,
    n_classes: int = 3,
    task: Task = "classification",
    *,
    n_outputs: int = 1,
    conv_filters: int = 32,
    inception_filters: int = 64,
    tcn_filters: int = 64,
    kernel_size: int = 3,
    dilations: Sequence[int] = (1, 2, 4, 8),
    leaky_alpha: float = 0.01,
    activation: str = "leaky_relu",
    batch_norm: bool = False,
    dropout: float = 0.2,
    name: str = "deeplob_tcn",
) -> keras.Model:
    """DeepLOB with a temporal convolution network (TCN) in place of the LSTM.

    After the DeepLOB front end, one residual block per dilation: a causal ``Conv1D`` (kernel
    3 by default) with that dilation, LeakyReLU, and a skip connection (a 1x1 projection into
    the first block). Causal padding means step ``t`` sees steps ``<= t`` only; the last
    step's features go to the head. The receptive field of the stack is
    ``1 + (kernel - 1) x sum(dilations)`` steps (31 with the defaults), on top of the front
    end's own ``(4, 1)`` and Inception filters.

    Parameters
    ----------
    T, n_features, n_classes, task, n_outputs, name
        As :func:`build_deeplob`.
    conv_filters, inception_filters, leaky_alpha, activation, batch_norm, dropout
        As :func:`build_deeplob`.
    tcn_filters : int
        Channels of every TCN block.
    kernel_size : int
        Width (time steps) of every causal convolution.
    dilations : sequence of int
        One residual block per dilation, in order.

    Returns
    -------
    keras.Model
        Input ``(batch, T, n_features)``; output as :func:`build_deeplob`'s.

    Examples
    --------
    >>> m = build_deeplob_tcn(T=16, n_features=8)
    >>> m.output_shape, [m.get_layer(f"tcn{i}").dilation_rate for i in range(4)]
    ((None, 3), [(1,), (2,), (4,), (8,)])
    """
    _check_task(task)
    _check_pos("T", T)
    inputs = keras.Input((T, n_features), name="lob")
    x = _deeplob_front(
        inputs,
        T,
        n_features,
        conv_filters=conv_filters,
        inception_filters=inception_filters,
        leaky_alpha=leaky_alpha,
        activation=activation,
        batch_norm=batch_norm,
        dropout=dropout,
    )
    for i, d in enumerate(dilations):
        y = layers.Conv1D(
            tcn_filters, kernel_size, dilation_rate=int(d), padding="causal", name=f"tcn{i}"
        )(x)
        y = _act(y, activation, leaky_alpha, f"tcn{i}_act")
        skip = x if i > 0 else layers.Conv1D(tcn_filters, 1, name="tcn_proj")(x)
        x = layers.Add(name=f"tcn{i}_res")([skip, y])
    x = layers.Cropping1D((T - 1, 0), name="last_step")(x)
    x = layers.Flatten(name="last")(x)
    return keras.Model(inputs, _head(x, task, n_classes, n_outputs, "out"), name=name)


@keras.saving.register_keras_serializable(package="lobutils")
class GatedFusion(keras.layers.Layer):
    """``g * a + (1 - g) * b`` with a learned gate ``g = sigmoid(W [a, b] + c)``.

    A Keras layer called on a pair ``[a, b]`` of tensors of the same shape
    ``(batch, units)``; its keyword arguments are those of :class:`keras.layers.Layer`.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    >>> out = GatedFusion()([a, b])
    >>> tuple(out.shape), bool(np.all((np.asarray(out) > 0) & (np.asarray(out) < 1)))
    ((2, 3), True)
    """

    def build(self, input_shape):
        """Create the gate, a dense sigmoid layer from ``2 x units`` to ``units``.

        Parameters
        ----------
        input_shape : list of tuple
            Shapes of ``a`` and ``b``; the last axis of ``a`` is ``units``.
        """
        units = int(input_shape[0][-1])
        self.gate = layers.Dense(units, activation="sigmoid", name="gate")
        self.gate.build((None, 2 * units))

    def call(self, inputs):
        """Mix the pair through the gate.

        Parameters
        ----------
        inputs : list of tensor
            ``[a, b]``, each ``(batch, units)``.

        Returns
        -------
        tensor
            ``g * a + (1 - g) * b``, shape ``(batch, units)``.
        """
        a, b = inputs
        g = self.gate(ops.concatenate([a, b], axis=-1))
        return g * a + (1.0 - g) * b

    def compute_output_shape(self, input_shape):
        """The shape of the output: that of ``a``.

        Parameters
        ----------
        input_shape : list of tuple
            Shapes of ``a`` and ``b``.

        Returns
        -------
        tuple
            ``input_shape[0]``.
        """
        return input_shape[0]


def build_multitask(
    T: int = 100,
    n_features: int = 40,
    n_classes: int = 3,
    task: Task = "regression",
    *,
    horizons: tuple[str, str] = ("short", "long"),
    conv_filters: int = 32,
    inception_filters: int = 64,
    lstm_units: int = 64,
    attention_heads: int = 4,
    leaky_alpha: float = 0.01,
    activation: str = "leaky_relu",
    batch_norm: bool = False,
    dropout: float = 0.2,
    name: str = "deeplob_multitask",
) -> keras.Model:
    """Hierarchical multi-task DeepLOB: a short- and a long-horizon head on shared features.

    The DeepLOB front end is shared. A short-horizon LSTM reads it and feeds the short head.
    A long-horizon LSTM reads it too; its last state queries the short branch's whole
    sequence through multi-head cross-attention, and a learned gate
    (:class:`GatedFusion`) mixes the long state with what the attention returned. The long
    head sees the fused state and the short branch's state (the hierarchy: the long forecast
    builds on the short one). Compile it with
    :func:`lobutils.models.training.compile_model`, which weights the two losses 0.5 / 0.5.

    Parameters
    ----------
    T, n_features, n_classes, task, name
        As :func:`build_deeplob`; each head is one value for a regression.
    conv_filters, inception_filters, lstm_units, leaky_alpha, activation, batch_norm, dropout
        As :func:`build_deeplob`; ``lstm_units`` for each of the two LSTMs.
    horizons : (str, str)
        Names of the two outputs, short first (e.g. ``("10s", "60s")``).
    attention_heads : int
        Heads of the cross-attention (key size ``lstm_units // attention_heads``).

    Returns
    -------
    keras.Model
        Two outputs, a dict ``{horizons[0]: ..., horizons[1]: ...}``.

    Raises
    ------
    ValueError
        When the two horizons have the same name.

    Examples
    --------
    >>> m = build_multitask(T=16, n_features=8, horizons=("h10", "h60"))
    >>> m.output_names, m.output_shape
    (['h10', 'h60'], [(None, 1), (None, 1)])
    """
    _check_task(task)
    short, long_ = horizons
    if short == long_:
        raise ValueError("the two horizons need distinct names")
    inputs = keras.Input((T, n_features), name="lob")
    x = _deeplob_front(
        inputs,
        T,
        n_features,
        conv_filters=conv_filters,
        inception_filters=inception_filters,
        leaky_alpha=leaky_alpha,
        activation=activation,
        batch_norm=batch_norm,
        dropout=dropout,
    )
    s_seq, s_h, _ = layers.LSTM(
        lstm_units, return_sequences=True, return_state=True, name="lstm_short"
    )(x)
    _, l_h, _ = layers.LSTM(lstm_units, return_sequences=True, return_state=True, name="lstm_long")(
        x
    )
    query = layers.Reshape((1, lstm_units), name="query")(l_h)
    key_dim = max(1, lstm_units // attention_heads)
    att = layers.MultiHeadAttention(attention_heads, key_dim, name="cross_attention")(query, s_seq)
    att = layers.Flatten(name="attended")(att)
    fused = GatedFusion(name="gated_fusion")([l_h, att])
    long_in = layers.Concatenate(name="hierarchy")([fused, s_h])
    out_s = _head(s_h, task, n_classes, 1, short)
    out_l = _head(long_in, task, n_classes, 1, long_)
    return keras.Model(inputs, {short: out_s, long_: out_l}, name=name)


def build_cnn_classifier(
    T: int = 100,
    n_features: int = 40,
    n_classes: int = 3,
    *,
    filters: Sequence[int] = (16, 32),
    kernel_size: int = 5,
    leaky_alpha: float = 0.01,
    dropout: float = 0.2,
    name: str = "cnn",
) -> keras.Model:
    """A small 1-D CNN classifier over book windows.

    Two ``Conv1D`` layers over time (all columns as channels, LeakyReLU, max-pooling between
    them), global average pooling, dropout and a softmax head: a few thousand parameters,
    a cheap comparison for DeepLOB.

    Parameters
    ----------
    T : int
        Time steps per input window.
    n_features : int
        Columns per step (all of them are channels of the convolutions).
    n_classes : int
        Classes of the softmax head.
    filters : sequence of int
        Channels of each ``Conv1D`` layer, in order.
    kernel_size : int
        Width (time steps) of every convolution.
    leaky_alpha : float
        Negative slope of the LeakyReLU.
    dropout : float
        Dropout before the head (0 turns it off).
    name : str
        Name of the Keras model.

    Returns
    -------
    keras.Model
        Uncompiled; input ``(batch, T, n_features)``, output ``(batch, n_classes)``
        probabilities.

    Examples
    --------
    >>> m = build_cnn_classifier(T=20, n_features=40)
    >>> m.output_shape, m.count_params()
    ((None, 3), 5907)
    """
    _check_pos("T", T)
    inputs = keras.Input((T, n_features), name="lob")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv1D(int(f), kernel_size, padding="same", name=f"conv{i}")(x)
        x = layers.LeakyReLU(negative_slope=leaky_alpha, name=f"conv{i}_act")(x)
        if i < len(filters) - 1:
            x = layers.MaxPooling1D(2, padding="same", name=f"pool{i}")(x)
    x = layers.GlobalAveragePooling1D(name="gap")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _head(x, "classification", n_classes, 1, "out"), name=name)


def build_l1_lstm(
    T: int = 100,
    n_features: int = 40,
    n_outputs: int = 3,
    *,
    units: int = 32,
    dropout: float = 0.1,
    name: str = "l1_lstm",
) -> keras.Model:
    """An LSTM regression of the future level-1 state.

    The outputs are the changes (bps) of the best bid, the best ask and the mid from ``t`` to
    ``t + h``: zero is the persistence forecast (the quotes stay where they are), the baseline
    to beat.

    Parameters
    ----------
    T : int
        Time steps per input window.
    n_features : int
        Columns per step.
    n_outputs : int
        Values forecast (3: best bid, best ask and mid changes, bps).
    units : int
        Width of the LSTM.
    dropout : float
        Dropout before the linear head (0 turns it off).
    name : str
        Name of the Keras model.

    Returns
    -------
    keras.Model
        Uncompiled; input ``(batch, T, n_features)``, output ``(batch, n_outputs)``.

    Examples
    --------
    >>> build_l1_lstm(T=20, n_features=40).output_shape
    (None, 3)
    """
    _check_pos("T", T)
    _check_pos("n_outputs", n_outputs)
    inputs = keras.Input((T, n_features), name="lob")
    x = layers.LSTM(units, name="lstm")(inputs)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, _head(x, "regression", 1, n_outputs, "out"), name=name)


_BUILDERS: Mapping[str, Callable[..., keras.Model]] = {
    "deeplob": build_deeplob,
    "deeplob_tcn": build_deeplob_tcn,
    "multitask": build_multitask,
    "cnn": build_cnn_classifier,
    "l1_lstm": build_l1_lstm,
}


@dataclass(frozen=True)
class DeepLOBConfig:
    """A model of the family by name, with its sizes: ``config.build()`` returns it.

    Parameters
    ----------
    model : {"deeplob", "deeplob_tcn", "multitask", "cnn", "l1_lstm"}
        The builder: :func:`build_deeplob`, :func:`build_deeplob_tcn`, :func:`build_multitask`,
        :func:`build_cnn_classifier` or :func:`build_l1_lstm`.
    T, n_features, n_classes : int
        Window length, columns per step and classes, passed to the builder.
    task : {"classification", "regression"}
        Ignored by ``cnn`` (always a classifier) and ``l1_lstm`` (always a regression).
    options : tuple of (name, value) pairs
        Further keyword arguments of the builder (e.g. ``(("lstm_units", 32),)``); a tuple so
        that the config stays hashable.

    Examples
    --------
    >>> cfg = DeepLOBConfig(T=10, n_features=8, options=(("lstm_units", 8),))
    >>> cfg.build().get_layer("lstm").units
    8
    """

    model: str = "deeplob"
    T: int = 100
    n_features: int = 40
    n_classes: int = 3
    task: Task = "classification"
    options: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.model not in _BUILDERS:
            raise ValueError(f"unknown model {self.model!r}; choose from {list(_BUILDERS)}")
        _check_task(self.task)
        object.__setattr__(
            self, "options", tuple((str(k), v) for k, v in dict(self.options).items())
        )

    @property
    def effective_task(self) -> Task:
        """The task the built model solves."""
        if self.model == "cnn":
            return "classification"
        if self.model == "l1_lstm":
            return "regression"
        return self.task

    def build(self) -> keras.Model:
        """Build the model.

        Returns
        -------
        keras.Model
            The uncompiled model, from the builder of ``model`` with this config's sizes and
            ``options``.
        """
        kw: dict[str, Any] = {"T": self.T, "n_features": self.n_features, **dict(self.options)}
        if self.model in ("deeplob", "deeplob_tcn", "multitask"):
            kw.update(n_classes=self.n_classes, task=self.task)
        elif self.model == "cnn":
            kw["n_classes"] = self.n_classes
        return _BUILDERS[self.model](**kw)
