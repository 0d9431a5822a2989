"""Tests of lobutils.models.training: resumable checkpoints, target standardisation with
training statistics, the EMA option scored on the raw target, class weights, multi-output
round trips, and the config's checks.

All data are synthetic (seeded generators below). Models are tiny (T of 8, a few dozen
windows) so that the whole file runs in well under a minute on two busy CPU cores.
"""

from __future__ import annotations

import json
from functools import partial

import keras
import numpy as np
import pytest

from lobutils.features.targets import ema_smoothed_returns
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


def test_config_checks_the_loss_against_the_task():
    with pytest.raises(ValueError, match="cross-entropy"):
        training.TrainConfig(loss="mse").loss_for("classification")
    with pytest.raises(ValueError, match="cross-entropy"):
        training.TrainConfig(loss="crossentropy").loss_for("regression")
    assert training.TrainConfig().loss_for("regression") == "huber"


def test_multi_output_model_weights_its_heads_equally():
    m = dl.build_multitask(T=8, n_features=8, horizons=("a", "b"), conv_filters=4,
                           inception_filters=4, lstm_units=4)  # fmt: skip
    training.compile_model(m, "regression", training.TrainConfig(run_eagerly=True))
    assert training.MULTITASK_LOSS_WEIGHTS == (0.5, 0.5)
    assert type(m.loss["a"]).__name__ == "Huber"


def test_models_package_resolves_the_training_names_lazily():
    import lobutils.models as M

    assert M.TrainConfig is training.TrainConfig and M.fit_predict is training.fit_predict
    assert M.build_deeplob is dl.build_deeplob


# --------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------


def _small(T=8):
    return dl.build_l1_lstm(T=T, n_features=8, n_outputs=1, units=4)


def test_checkpoint_resumes_from_the_last_epoch(tmp_path):
    X, y = synthetic()
    T = 8
    tr = WindowDataset(X, np.arange(T - 1, 60), T=T, y=y[T - 1 : 60], batch_size=16)
    va = WindowDataset(X, np.arange(68, 96), T=T, y=y[68:96], batch_size=16)
    cfg2 = training.TrainConfig(epochs=2, run_eagerly=True, early_stopping_patience=50)
    first = training.train_model(_small, tr, va, "regression", cfg2, checkpoint_dir=tmp_path)
    assert first.epochs_run == 2 and first.resumed_from == 0
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["epoch"] == 2 and state["finished"] is True
    assert (tmp_path / "last.keras").is_file() and (tmp_path / "best.weights.h5").is_file()

    # the same call again: nothing left to train, the saved model and history come back
    again = training.train_model(_small, tr, va, "regression", cfg2, checkpoint_dir=tmp_path)
    assert again.epochs_run == 0 and list(again.history["epoch"]) == [1, 2]
    for a, b in zip(again.model.get_weights(), first.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b)

    # more epochs: continues at epoch 3, never repeats 1-2
    cfg4 = training.TrainConfig(epochs=4, run_eagerly=True, early_stopping_patience=50)
    more = training.train_model(_small, tr, va, "regression", cfg4, checkpoint_dir=tmp_path)
    assert more.resumed_from == 2 and more.epochs_run == 2
    assert list(more.history["epoch"]) == [1, 2, 3, 4]


def test_checkpoint_of_a_multi_output_model_reloads(tmp_path):
    X, y = synthetic()
    ends = np.arange(7, 40)
    ds = WindowDataset(X, ends, T=8, y={"a": y[ends], "b": y[ends]}, batch_size=16)

    def build():
        return dl.build_multitask(
            T=8,
            n_features=8,
            horizons=("a", "b"),
            conv_filters=4,
            inception_filters=4,
            lstm_units=4,
        )

    cfg = training.TrainConfig(epochs=1, **FAST)
    first = training.train_model(build, ds, None, "regression", cfg, checkpoint_dir=tmp_path)
    again = training.train_model(build, ds, None, "regression", cfg, checkpoint_dir=tmp_path)
    assert again.epochs_run == 0
    x = ds[0][0]
    np.testing.assert_allclose(
        np.asarray(again.model(x)["b"]), np.asarray(first.model(x)["b"]), rtol=1e-5
    )


def test_checkpoint_resumes_after_an_interruption(tmp_path):
    X, y = synthetic()
    T = 8

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    tr = WindowDataset(X, np.arange(T - 1, 60), T=T, y=y[T - 1 : 60], batch_size=16)
    cfg = training.TrainConfig(epochs=3, **FAST)
    model = _small()
    training.compile_model(model, "regression", cfg)
    # Interrupt after epoch 2 is saved: run fit by hand with the module's callback order
    history: list = []
    cb = training._Resume(tmp_path, history, "loss")
    with pytest.raises(KeyboardInterrupt):
        model.fit(tr, epochs=3, callbacks=[cb, Interrupt()], verbose=0)
    assert json.loads((tmp_path / "state.json").read_text())["finished"] is False
    res = training.train_model(_small, tr, None, "regression", cfg, checkpoint_dir=tmp_path)
    assert res.resumed_from == 2 and res.epochs_run == 1
    assert list(res.history["epoch"]) == [1, 2, 3]


# --------------------------------------------------------------------------------------
# targets: standardisation with training statistics, EMA evaluated on raw returns
# --------------------------------------------------------------------------------------


def test_target_standardisation_uses_training_rows_only():
    X, y = synthetic()
    y = y.copy()
    y[80:] = 1e6  # test rows: an absurd level that must not reach the scaler
    mk = partial(WindowDataset, X, T=8, batch_size=16)
    res = training.fit_predict(
        lambda: _small(),
        mk,
        y,
        train_ends=np.arange(7, 60),
        val_ends=np.arange(67, 75),
        test_ends=np.arange(87, 96),
        task="regression",
        config=training.TrainConfig(epochs=1, **FAST),
    )
    assert res.scaler.mean == pytest.approx(y[7:60].mean())
    assert res.scaler.std == pytest.approx(y[7:60].std())
    np.testing.assert_array_equal(res.y_true, y[87:96])


def test_ema_option_trains_on_smoothed_but_scores_raw():
    X, y = synthetic()
    mk = partial(WindowDataset, X, T=8, batch_size=16)
    seen = {}

    def spy(ends, y=None, shuffle=False):
        if shuffle:
            seen["train_y"] = np.asarray(y)
        return mk(ends, y=y, shuffle=shuffle)

    tr = np.arange(7, 60)
    res = training.fit_predict(
        _small,
        spy,
        y,
        train_ends=tr,
        val_ends=np.arange(67, 75),
        test_ends=np.arange(80, 96),
        task="regression",
        config=training.TrainConfig(epochs=1, ema_alpha=0.3, **FAST),
    )
    ema = ema_smoothed_returns(y, alpha=0.3)
    assert res.trained_on == "ema(0.3)"
    # trained on the standardised EMA target (its own training mean and std) ...
    np.testing.assert_allclose(
        seen["train_y"], (ema[tr] - ema[tr].mean()) / ema[tr].std(), rtol=1e-5, atol=1e-6
    )
    assert res.scaler.mean == pytest.approx(ema[tr].mean())
    # ... but scored on the raw target, never the smoothed one
    np.testing.assert_array_equal(res.y_true, y[80:96])
    assert not np.allclose(res.y_true, ema[80:96])


def test_classification_round_trip_and_class_weights():
    X, y = synthetic()
    codes = np.digitize(y, np.quantile(y, [0.2, 0.8]))
    mk = partial(WindowDataset, X, T=8, batch_size=16)
    res = training.fit_predict(
        lambda: dl.build_cnn_classifier(T=8, n_features=8, filters=(4,)),
        mk,
        codes,
        train_ends=np.arange(7, 60),
        val_ends=np.arange(67, 75),
        test_ends=np.arange(80, 96),
        task="classification",
        config=training.TrainConfig(epochs=1, class_weight="balanced", **FAST),
    )
    assert res.proba.shape == (16, 3) and set(np.unique(res.y_pred)) <= {0, 1, 2}
    np.testing.assert_allclose(res.proba.sum(axis=1), 1.0, rtol=1e-5)
    assert res.scaler is None
    w = training._class_weights(np.array([0, 0, 0, 1]), 3)
    assert w[0] == pytest.approx(4 / 9) and w[1] == pytest.approx(4 / 3) and w[2] == 0.0


def test_multitask_fit_predict_dict_targets():
    X, y = synthetic()
    mk = partial(WindowDataset, X, T=8, batch_size=16)
    res = training.fit_predict(
        lambda: dl.build_multitask(
            T=8,
            n_features=8,
            horizons=("a", "b"),
            conv_filters=4,
            inception_filters=4,
            lstm_units=4,
        ),
        mk,
        {"a": y, "b": 2 * y},
        train_ends=np.arange(7, 60),
        val_ends=np.arange(67, 75),
        test_ends=np.arange(80, 96),
        task="regression",
        config=training.TrainConfig(epochs=1, **FAST),
    )
    assert set(res.y_pred) == {"a", "b"} and res.y_pred["b"].shape == (16,)
    np.testing.assert_array_equal(res.y_true["b"], 2 * y[80:96])
    assert res.scaler["b"].mean == pytest.approx(2 * y[7:60].mean())
