"""A loader for the FI-2010 benchmark, with the DeepLOB train / validation / test setup.

FI-2010 (Ntakaris et al. 2018) holds ten days of limit-order-book data of five Nasdaq Nordic
stocks, already turned into features and labels. The book does not bundle it (readers who
want it download it from the authors' data repository); this module reads its text files.

The text layout
---------------
Each file is a matrix of **149 rows** and one column per event, numbers separated by
whitespace (the files are written transposed: a row is a feature, a column a sample).

- Rows 0-39: the 40 book features, for each level 1..10: ask price, ask volume, bid price,
  bid volume (the order :func:`lobutils.models.windows.lob_matrix` uses too);
- rows 40-143: 104 hand-crafted features (not used by DeepLOB);
- rows 144-148: the labels for the horizons of 1, 2, 3, 5 and 10 events: 1 = up,
  2 = stationary, 3 = down.

The normalised versions (``ZScore``, ``MinMax``, ``DecPre``) share the layout; the file names
say which (``Train_Dst_NoAuction_DecPre_CF_7.txt``). In the anchored "cross-fold" setup,
``Train_..._CF_k`` holds days ``1..k`` and ``Test_..._CF_k`` day ``k + 1``.

The DeepLOB setup
-----------------
Zhang, Zohren & Roberts (2019) train on ``Train_..._CF_7`` (days 1-7), keep its last 20% of
rows for validation, and test on ``Test_..._CF_7``, ``_CF_8`` and ``_CF_9`` (days 8, 9
and 10). :func:`load_deeplob_setup` returns those three parts; windows must not cross from one
test file into the next, so each part carries a block id per row for
:func:`lobutils.models.windows.window_ends`.

Labels
------
The labels are returned as the book's codes: 0 = down, 1 = flat (stationary), 2 = up (as
:func:`lobutils.features.targets.three_class_labels`); FI-2010's 1/2/3 (up/stationary/down) map to
2/1/0.

Examples
--------
A small synthetic file in the same layout (labelled synthetic):

>>> import tempfile
>>> from pathlib import Path
>>> with tempfile.TemporaryDirectory() as tmp:
...     paths = write_synthetic(tmp, n_train=50, n_test=10)
...     parts = load_deeplob_setup(tmp, normalisation="DecPre")
>>> parts.train.X.shape, parts.val.X.shape, parts.test.X.shape
((40, 40), (10, 40), (30, 40))
>>> sorted(set(parts.test.blocks.tolist()))
[7, 8, 9]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "FI2010_HORIZONS",
    "FI2010Part",
    "FI2010Setup",
    "file_name",
    "find_file",
    "load_deeplob_setup",
    "read_fi2010",
    "train_deeplob",
    "write_synthetic",
]

N_ROWS = 149
N_LOB = 40
FI2010_HORIZONS: tuple[int, ...] = (1, 2, 3, 5, 10)
"""Label horizons, in events, of the last five rows."""

CLASSES: tuple[str, ...] = ("down", "flat", "up")
_FI_TO_BOOK = {1: 2, 2: 1, 3: 0}  # FI-2010 up/stationary/down -> book codes


def file_name(kind: str, fold: int, normalisation: str = "DecPre", auction: bool = False) -> str:
    """The file name of one FI-2010 file.

    Parameters
    ----------
    kind : {"train", "test"}
        Which half of the anchored cross-fold setup.
    fold : int
        The ``CF`` fold number (train: days ``1..fold``; test: day ``fold + 1``).
    normalisation : {"DecPre", "ZScore", "MinMax"}
        Which of the archive's normalised versions.
    auction : bool
        The files with the auction periods.

    Returns
    -------
    str
        E.g. ``"Train_Dst_NoAuction_DecPre_CF_7.txt"``.

    Raises
    ------
    ValueError
        For an unknown kind or normalisation.

    Examples
    --------
    >>> file_name("train", 7), file_name("test", 9, "ZScore")
    ('Train_Dst_NoAuction_DecPre_CF_7.txt', 'Test_Dst_NoAuction_ZScore_CF_9.txt')
    """
    if kind not in ("train", "test"):
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    if normalisation not in ("DecPre", "ZScore", "MinMax"):
        raise ValueError(f"normalisation must be DecPre, ZScore or MinMax, got {normalisation!r}")
    head = "Train" if kind == "train" else "Test"
    auc = "Auction" if auction else "NoAuction"
    return f"{head}_Dst_{auc}_{normalisation}_CF_{int(fold)}.txt"


def find_file(directory: str | os.PathLike[str], name: str) -> Path:
    """The file ``name`` anywhere below ``directory`` (the archive nests folders).

    Parameters
    ----------
    directory : path-like
        Where the FI-2010 archive was unpacked.
    name : str
        A file name (:func:`file_name`).

    Returns
    -------
    pathlib.Path
        ``directory / name`` when it exists, else the first match below, by path.

    Raises
    ------
    FileNotFoundError
        Naming the file and the directory searched.
    """
    root = Path(directory)
    direct = root / name
    if direct.is_file():
        return direct
    hits = sorted(root.rglob(name))
    if not hits:
        raise FileNotFoundError(f"{name} not found under {root}; download FI-2010 there first")
    return hits[0]


@dataclass(frozen=True, eq=False)
class FI2010Part:
    """Rows of FI-2010 as a model reads them.

    Attributes
    ----------
    X : numpy.ndarray (N, 40), float32
        The book features, one row per event.
    labels : numpy.ndarray (N, 5), int8
        Book codes (0 down, 1 flat, 2 up) per horizon of :data:`FI2010_HORIZONS`.
    blocks : numpy.ndarray (N,), int
        Which file (the ``CF`` fold number) each row came from; windows stay inside a block.
    """

    X: np.ndarray = field(repr=False)
    labels: np.ndarray = field(repr=False)
    blocks: np.ndarray = field(repr=False)

    def __len__(self) -> int:
        return int(self.X.shape[0])

    def y(self, horizon: int = 10) -> np.ndarray:
        """Label codes at one horizon.

        Parameters
        ----------
        horizon : int
            In events: 1, 2, 3, 5 or 10.

        Returns
        -------
        numpy.ndarray of int64
            Book codes (0 down, 1 flat, 2 up), one per row.

        Raises
        ------
        ValueError
            For a horizon that FI-2010 does not label.
        """
        if horizon not in FI2010_HORIZONS:
            raise ValueError(f"horizon must be one of {FI2010_HORIZONS}, got {horizon}")
        return self.labels[:, FI2010_HORIZONS.index(horizon)].astype(np.int64)

    def balance(self, horizon: int = 10) -> pd.Series:
        """Class shares at one horizon.

        Parameters
        ----------
        horizon : int
            In events: 1, 2, 3, 5 or 10.

        Returns
        -------
        pandas.Series
            Share of ``down``, ``flat`` and ``up`` rows (sums to 1).
        """
        y = self.y(horizon)
        return pd.Series(np.bincount(y, minlength=3) / max(len(y), 1), index=list(CLASSES))


def read_fi2010(path: str | os.PathLike[str], block: int = 0) -> FI2010Part:
    """Read one FI-2010 text file (149 rows x N events) into an :class:`FI2010Part`.

    Parameters
    ----------
    path : path-like
        The text file.
    block : int
        Block id of its rows (the fold number), so that windows stay inside one file.

    Returns
    -------
    FI2010Part
        The 40 book columns as float32 and the labels as book codes.

    Raises
    ------
    ValueError
        When the file does not have 149 rows, or a label is not 1, 2 or 3.
    """
    raw = pd.read_csv(path, sep=r"\s+", header=None, dtype=np.float64, engine="c").to_numpy()
    if raw.shape[0] != N_ROWS:
        raise ValueError(f"{path}: {raw.shape[0]} rows, FI-2010 files have {N_ROWS}")
    lab = raw[N_ROWS - len(FI2010_HORIZONS) :].T
    if not np.isin(lab, (1.0, 2.0, 3.0)).all():
        raise ValueError(f"{path}: labels must be 1, 2 or 3")
    codes = np.vectorize(_FI_TO_BOOK.__getitem__, otypes=[np.int8])(lab.astype(np.int64))
    X = np.ascontiguousarray(raw[:N_LOB].T, dtype=np.float32)
    return FI2010Part(X, codes, np.full(X.shape[0], int(block), dtype=np.int64))


def _concat(parts: Sequence[FI2010Part]) -> FI2010Part:
    return FI2010Part(
        np.concatenate([p.X for p in parts]),
        np.concatenate([p.labels for p in parts]),
        np.concatenate([p.blocks for p in parts]),
    )


def _slice(part: FI2010Part, sl: slice) -> FI2010Part:
    return FI2010Part(part.X[sl], part.labels[sl], part.blocks[sl])


@dataclass(frozen=True, eq=False)
class FI2010Setup:
    """DeepLOB's split of FI-2010: train and validation from day 7's file, test from CF 7-9.

    Parameters
    ----------
    train : FI2010Part
        The first rows of the training file.
    val : FI2010Part
        Its last rows (chronological, no shuffle).
    test : FI2010Part
        The test files, one block each.
    normalisation : str
        ``"DecPre"``, ``"ZScore"`` or ``"MinMax"``.
    files : tuple of str
        The file names read, the training file first.
    """

    train: FI2010Part
    val: FI2010Part
    test: FI2010Part
    normalisation: str
    files: tuple[str, ...]


def load_deeplob_setup(
    directory: str | os.PathLike[str],
    normalisation: str = "DecPre",
    *,
    auction: bool = False,
    train_fold: int = 7,
    test_folds: Sequence[int] = (7, 8, 9),
    val_fraction: float = 0.2,
) -> FI2010Setup:
    """Load the DeepLOB setup: train on the first 80% of ``Train_..._CF_7``, validate on its
    last 20%, test on ``Test_..._CF_7``, ``_CF_8`` and ``_CF_9``.

    The validation rows are the *last* rows of the training file (chronological, no shuffle).

    Parameters
    ----------
    directory : path-like
        Where the FI-2010 archive was unpacked (searched recursively for the file names).
    normalisation : {"DecPre", "ZScore", "MinMax"}
        Which of the archive's normalised versions.
    auction : bool
        The files with the auction periods (DeepLOB used NoAuction).
    train_fold : int
        Fold of the training file.
    test_folds : sequence of int
        Folds of the test files, in order.
    val_fraction : float
        Share of the training file's last rows kept for validation.

    Returns
    -------
    FI2010Setup
        The train, validation and test parts.

    Raises
    ------
    ValueError
        When ``val_fraction`` is outside (0, 1) or leaves an empty part.
    FileNotFoundError
        When a file is missing (:func:`find_file`).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie in (0, 1), got {val_fraction}")
    train_path = find_file(directory, file_name("train", train_fold, normalisation, auction))
    full = read_fi2010(train_path, block=train_fold)
    cut = int(round(len(full) * (1 - val_fraction)))
    if cut < 1 or cut >= len(full):
        raise ValueError("the training file is too short to hold out a validation block")
    tests, files = [], [train_path.name]
    for k in test_folds:
        p = find_file(directory, file_name("test", k, normalisation, auction))
        tests.append(read_fi2010(p, block=k))
        files.append(p.name)
    return FI2010Setup(
        train=_slice(full, slice(0, cut)),
        val=_slice(full, slice(cut, None)),
        test=_concat(tests),
        normalisation=normalisation,
        files=tuple(files),
    )


def write_synthetic(
    directory: str | os.PathLike[str],
    *,
    n_train: int = 200,
    n_test: int = 50,
    normalisation: str = "DecPre",
    train_fold: int = 7,
    test_folds: Sequence[int] = (7, 8, 9),
    seed: int = 0,
) -> list[Path]:
    """Write small **synthetic** files in the FI-2010 layout (for tests and examples).

    Prices follow a random walk around 10 (DecPre scale), volumes are positive, the 104
    hand-crafted rows are noise, and the labels are the sign of the mid's move over each
    horizon with a small flat band: 1 up, 2 stationary, 3 down, as in FI-2010.

    Parameters
    ----------
    directory : path-like
        Where to write (created if missing).
    n_train : int
        Events of the training file.
    n_test : int
        Events of each test file.
    normalisation : {"DecPre", "ZScore", "MinMax"}
        The name the files carry (the numbers are on the DecPre scale).
    train_fold : int
        Fold of the training file.
    test_folds : sequence of int
        Folds of the test files.
    seed : int
        Seed of the synthetic data.

    Returns
    -------
    list of pathlib.Path
        The files written (the train file first).
    """
    rng = np.random.default_rng(seed)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)

    def matrix(n: int) -> np.ndarray:
        mid = 10.0 + np.cumsum(rng.normal(scale=0.01, size=n))
        m = np.zeros((N_ROWS, n))
        for lvl in range(10):
            tick = 0.001 * (lvl + 1)
            m[4 * lvl] = mid + tick  # ask price
            m[4 * lvl + 1] = rng.uniform(0.1, 1.0, size=n)  # ask volume
            m[4 * lvl + 2] = mid - tick  # bid price
            m[4 * lvl + 3] = rng.uniform(0.1, 1.0, size=n)  # bid volume
        m[N_LOB : N_ROWS - 5] = rng.normal(size=(N_ROWS - 5 - N_LOB, n))
        for j, h in enumerate(FI2010_HORIZONS):
            fwd = np.r_[mid[h:], np.repeat(mid[-1], h)] - mid
            m[N_ROWS - 5 + j] = np.where(fwd > 0.002, 1, np.where(fwd < -0.002, 3, 2))
        return m

    paths = []
    jobs = [("train", train_fold, n_train)] + [("test", k, n_test) for k in test_folds]
    for kind, k, n in jobs:
        p = out / file_name(kind, k, normalisation)
        np.savetxt(p, matrix(n), fmt="%.7e", delimiter="  ")
        paths.append(p)
    return paths


def train_deeplob(
    setup: FI2010Setup,
    *,
    T: int = 100,
    horizon: int = 10,
    config=None,
    build=None,
) -> tuple[object, np.ndarray, np.ndarray]:
    """DeepLOB trained in the paper's setup: train, stop on validation, predict the test days.

    FI-2010 is already normalised, so the windows read the rows as they are; no window crosses
    from one test day into the next (:attr:`FI2010Part.blocks`).

    Parameters
    ----------
    setup : FI2010Setup
        From :func:`load_deeplob_setup`.
    T : int
        Events per window (100 in the paper).
    horizon : int
        Label horizon in events, one of :data:`FI2010_HORIZONS`.
    config : lobutils.models.training.TrainConfig, optional
        Default: the paper's Adam (learning rate 0.01, epsilon 1.0), 5 epochs.
    build : callable, optional
        Returns the uncompiled model; default :func:`lobutils.models.deeplob.build_deeplob`
        for ``T`` events.

    Returns
    -------
    train : lobutils.models.training.TrainResult
        The training run.
    y_true, y_pred : numpy.ndarray
        Test labels and predicted classes (0 down, 1 flat, 2 up).

    Examples
    --------
    >>> import tempfile
    >>> from lobutils.models.training import TrainConfig
    >>> from lobutils.models.deeplob import build_cnn_classifier
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = write_synthetic(tmp, n_train=80, n_test=20)
    ...     fi = load_deeplob_setup(tmp)
    >>> res, y, p = train_deeplob(fi, T=5, config=TrainConfig(epochs=1, run_eagerly=True),
    ...                           build=lambda: build_cnn_classifier(T=5, n_features=40))
    >>> y.shape == p.shape, res.epochs_run
    (True, 1)
    """
    from lobutils.models import deeplob as dl
    from lobutils.models import training
    from lobutils.models.windows import WindowDataset, window_ends

    cfg = config or training.TrainConfig(epochs=5, learning_rate=0.01, adam_epsilon=1.0)

    def data(part: FI2010Part, labelled: bool = True, **kw) -> WindowDataset:
        ends = window_ends(np.ones(len(part), bool), T, blocks=part.blocks)
        y = part.y(horizon)[ends] if labelled else None
        return WindowDataset(part.X, ends, T=T, y=y, batch_size=cfg.batch_size, **kw)

    train, val = data(setup.train, shuffle=True), data(setup.val)
    res = training.train_model(
        build or (lambda: dl.build_deeplob(T=T)), train, val, "classification", cfg
    )
    test = data(setup.test, labelled=False)
    y_pred = np.argmax(training.predict(res.model, test), axis=-1)
    return res, setup.test.y(horizon)[test.ends], y_pred
