"""Tests of lobutils.models.deeplob: sizes, shapes and one tiny training step per builder
(the training loop itself is tested in test_training.py).

All data are synthetic (seeded generators below). Models are tiny (T of 8 to 16, a few dozen
windows) so that the whole file runs in well under a minute on two busy CPU cores; the
full-size DeepLOB is only built, to count its parameters.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from lobutils.models import deeplob as dl
from lobutils.models import training
from lobutils.models.windows import WindowDataset

FAST = dict(run_eagerly=True, early_stopping_patience=None, reduce_lr_patience=None)


def synthetic(n: int = 96, F: int = 8, seed: int = 0):
    """Random book-like rows and a target that depends on the last row (labelled synthetic)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, F)).astype("float32")
    y = 3.0 + 2.0 * X[:, 0] + 0.1 * rng.normal(size=n)
    return X, y


# --------------------------------------------------------------------------------------
# sizes and shapes
# --------------------------------------------------------------------------------------


def test_deeplob_parameter_count_matches_the_reference():
    # The authors' Keras DeepLOB (no batch norm): 142,435 parameters for T=100, 40 features.
    m = dl.build_deeplob()
    assert m.count_params() == dl.DEEPLOB_KERAS_PARAMS == 142_435
    assert m.input_shape == (None, 100, 40) and m.output_shape == (None, 3)
    # With the PyTorch port's batch norms: +1,216 trainable (+1,216 moving statistics); the
    # port's 143,907 adds PyTorch's second LSTM bias (4 x 64).
    bn = dl.build_deeplob(batch_norm=True)
    trainable = sum(int(np.prod(w.shape)) for w in bn.trainable_weights)
    assert trainable == 142_435 + 1_216
    assert trainable + 4 * 64 == dl.DEEPLOB_PYTORCH_PARAMS
    assert dl.build_deeplob(task="regression").count_params() == 142_435 - 195 + 65


def test_deeplob_layer_breakdown():
    m = dl.build_deeplob()

    def count(prefix):
        return sum(lay.count_params() for lay in m.layers if lay.name.startswith(prefix))

    assert count("conv") == 37_216
    assert count("inc") == 39_232
    assert m.get_layer("lstm").count_params() == 65_792
    assert m.get_layer("out").count_params() == 195
    # the strides pair price with size, then bid with ask, then the (1, L) conv collapses levels
    assert m.get_layer("conv1a").output.shape[1:] == (100, 20, 32)
    assert m.get_layer("conv2a").output.shape[1:] == (100, 10, 32)
    assert m.get_layer("conv3a").output.shape[1:] == (100, 1, 32)


@pytest.mark.parametrize(
    "builder, kwargs, shape",
    [
        (dl.build_deeplob, {}, (None, 3)),
        (dl.build_deeplob, {"task": "regression", "n_outputs": 2}, (None, 2)),
        (dl.build_deeplob_tcn, {}, (None, 3)),
        (dl.build_deeplob_tcn, {"task": "regression"}, (None, 1)),
        (dl.build_cnn_classifier, {}, (None, 3)),
        (dl.build_l1_lstm, {}, (None, 3)),
    ],
)
def test_output_shapes(builder, kwargs, shape):
    m = builder(T=12, n_features=8, **kwargs)
    assert m.input_shape == (None, 12, 8)
    assert m.output_shape == shape


def test_multitask_outputs_and_fusion():
    m = dl.build_multitask(T=12, n_features=8, horizons=("10s", "60s"))
    assert m.output_names == ["10s", "60s"]
    assert isinstance(m.get_layer("cross_attention"), keras.layers.MultiHeadAttention)
    assert isinstance(m.get_layer("gated_fusion"), dl.GatedFusion)
    out = m(np.zeros((2, 12, 8), "float32"))
    assert set(out) == {"10s", "60s"} and tuple(out["60s"].shape) == (2, 1)


def test_tcn_is_causal():
    """In the TCN stack, step t depends on steps <= t only."""
    m = dl.build_deeplob_tcn(T=16, n_features=8, dropout=0.0)
    stack = keras.Model(m.get_layer("to_sequence").output, m.get_layer("tcn3_res").output)
    x = np.random.default_rng(0).normal(size=(1, 16, 192)).astype("float32")
    x2 = x.copy()
    x2[0, 9] += 10.0
    a, b = np.asarray(stack(x)), np.asarray(stack(x2))
    np.testing.assert_allclose(a[0, :9], b[0, :9], atol=1e-6)
    assert not np.allclose(a[0, 9], b[0, 9])
    # receptive field 1 + 2 x (1 + 2 + 4 + 8) = 31 > 16: the last step sees the change
    assert not np.allclose(a[0, -1], b[0, -1])


def test_bad_arguments():
    with pytest.raises(ValueError, match="4 x levels"):
        dl.build_deeplob(T=10, n_features=10)
    with pytest.raises(ValueError, match="task"):
        dl.build_deeplob(task="ranking")
    with pytest.raises(ValueError, match="unknown model"):
        dl.DeepLOBConfig(model="transformer")


def test_config_builds_each_model():
    for name in ("deeplob", "deeplob_tcn", "multitask", "cnn", "l1_lstm"):
        cfg = dl.DeepLOBConfig(model=name, T=8, n_features=8, task="regression")
        m = cfg.build()
        assert m.input_shape == (None, 8, 8)
    assert dl.DeepLOBConfig(model="cnn", task="regression").effective_task == "classification"
    assert hash(dl.DeepLOBConfig(options=(("lstm_units", 8),)))  # frozen and hashable


# --------------------------------------------------------------------------------------
# one tiny training step per builder
# --------------------------------------------------------------------------------------


NARROW = {
    "deeplob": (("conv_filters", 4), ("inception_filters", 4), ("lstm_units", 4)),
    "deeplob_tcn": (("conv_filters", 4), ("inception_filters", 4), ("tcn_filters", 4)),
    "cnn": (("filters", (4, 4)),),
    "l1_lstm": (("units", 4),),
}


@pytest.mark.parametrize(
    "name, task",
    [
        ("deeplob", "classification"),
        ("deeplob", "regression"),
        ("deeplob_tcn", "classification"),
        ("cnn", "classification"),
        ("l1_lstm", "regression"),
    ],
)
def test_one_training_step(name, task):
    """One epoch on 33 windows; the multi-task model trains in its fit_predict test below."""
    X, y = synthetic()
    T = 8
    ends = np.arange(T - 1, 40)
    cfg = dl.DeepLOBConfig(model=name, T=T, n_features=8, task=task, options=NARROW[name])
    task = cfg.effective_task
    if name == "l1_lstm":
        yy = np.c_[y[ends], y[ends], y[ends]].astype("float32")
    elif task == "classification":
        yy = (y[ends] > 3.0).astype("int64")
    else:
        yy = y[ends].astype("float32")
    ds = WindowDataset(X, ends, T=T, y=yy, batch_size=16)
    res = training.train_model(cfg.build, ds, None, task, training.TrainConfig(epochs=1, **FAST))
    assert res.epochs_run == 1 and len(res.history) == 1
    assert np.isfinite(res.history["loss"].iloc[0])
    assert res.samples_per_s > 0


# --------------------------------------------------------------------------------------
# the PyTorch reference port used by benchmarks/bench_deeplob.py --compare-torch
# --------------------------------------------------------------------------------------


def test_torch_reference_port_matches_keras_and_the_paper_in_size():
    """The timed PyTorch port and the Keras model are the same size (within 2%), ~143k."""
    torch = pytest.importorskip(
        "torch", reason="PyTorch is not installed (only the --compare-torch benchmark uses it)"
    )
    import importlib.util

    from lobutils.paths import REPO_ROOT

    path = REPO_ROOT / "benchmarks" / "deeplob_torch.py"
    spec = importlib.util.spec_from_file_location("deeplob_torch", path)
    port = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(port)
    ref = port.DeepLOB()
    n_torch = port.count_params(ref)
    n_keras = dl.build_deeplob().count_params()
    # the authors' notebook's torchinfo summary: 143,907 (batch norms and two LSTM biases)
    assert n_torch == port.REFERENCE_PARAMS == dl.DEEPLOB_PYTORCH_PARAMS
    assert abs(n_keras - n_torch) / n_torch < 0.02
    for n in (n_keras, n_torch):
        assert 0.98 * 142_000 <= n <= 1.02 * 144_000
    # forward: (batch, 1, T, 40) -> class probabilities; the LSTM sees T - 18 steps
    out = ref(torch.randn(2, 1, 30, 40))
    assert tuple(out.shape) == (2, 3)
    np.testing.assert_allclose(out.sum(dim=1).detach().numpy(), 1.0, rtol=1e-5)
