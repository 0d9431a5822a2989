"""Zero-copy input windows for the deep models, normalised with training statistics.

A model of the DeepLOB family reads, for each target row ``e``, the window of the ``T`` book
states ``e - T + 1 .. e``. Materialising all of them is an ``(N, T, F)`` array, ``T`` times the
data (100 times for DeepLOB): 25 million samples of 40 float32 columns would need 400 GB. This
module never builds it. :class:`WindowDataset` is a :class:`keras.utils.PyDataset` that keeps
the ``(N, F)`` array (a NumPy array or a read-only ``np.load(..., mmap_mode="r")`` memory map)
and cuts each batch out of a :func:`numpy.lib.stride_tricks.sliding_window_view`, a view with
no copy; only the batch itself, ``(batch, T, F)``, is ever in memory.

Three rules keep the windows honest:

- A window ends at its target row, so it never holds a row after the target time.
- A window never spans a gap in the book or a block boundary (another segment, or another part
  of a train / validation / test split): :func:`window_ends` keeps only the rows whose whole
  window is valid and inside one block.
- Normalisation uses statistics of the training rows only (:func:`fit_normalizer`), one mean
  and standard deviation per *group* of columns (all prices, all sizes), so that the levels
  keep their relative scale, as in DeepLOB.

Column order
------------
:func:`lob_matrix` lays out a book frame as FI-2010 and DeepLOB do: for each level
``1..L``, ask price, ask size, bid price, bid size (``4 L`` columns). :func:`lob_groups` names
the price and size columns of that layout.

Examples
--------
>>> X = np.arange(20, dtype="float32").reshape(10, 2)
>>> ds = WindowDataset(X, ends=np.array([2, 5]), T=3, batch_size=2)
>>> ds[0][0][1].tolist()
[[6.0, 7.0], [8.0, 9.0], [10.0, 11.0]]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import keras
import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

__all__ = [
    "LOBData",
    "Normalizer",
    "WindowDataset",
    "fit_normalizer",
    "lob_columns",
    "lob_groups",
    "lob_matrix",
    "load_lob",
    "training_rows",
    "window_ends",
]

BPS = 1e4


def lob_columns(levels: int) -> list[str]:
    """Book-frame column names in the FI-2010 / DeepLOB order.

    Parameters
    ----------
    levels : int
        Book levels ``L``.

    Returns
    -------
    list of str
        ``4 L`` names: per level, ask price, ask size, bid price, bid size.

    Examples
    --------
    >>> lob_columns(1)
    ['ask_px_1', 'ask_qty_1', 'bid_px_1', 'bid_qty_1']
    """
    out: list[str] = []
    for i in range(1, int(levels) + 1):
        out += [f"ask_px_{i}", f"ask_qty_{i}", f"bid_px_{i}", f"bid_qty_{i}"]
    return out


def lob_groups(n_features: int) -> dict[str, np.ndarray]:
    """Column indices of the price and size groups of a :func:`lob_matrix` layout.

    Parameters
    ----------
    n_features : int
        Columns of the layout, ``4 x levels``.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"prices"`` (the even columns) and ``"sizes"`` (the odd ones).

    Raises
    ------
    ValueError
        When ``n_features`` is not a multiple of 4.

    Examples
    --------
    >>> {k: v.tolist() for k, v in lob_groups(8).items()}
    {'prices': [0, 2, 4, 6], 'sizes': [1, 3, 5, 7]}
    """
    if n_features % 4:
        raise ValueError(f"a book layout has 4 x levels columns, got {n_features}")
    idx = np.arange(n_features)
    return {"prices": idx[idx % 2 == 0], "sizes": idx[idx % 2 == 1]}


def lob_matrix(
    frame: pd.DataFrame, levels: int | None = None, dtype: Any = np.float32
) -> np.ndarray:
    """A book frame as an ``(N, 4 L)`` array in the FI-2010 / DeepLOB column order.

    Parameters
    ----------
    frame : pandas.DataFrame
        A book frame (``bid_px_1..``, ``bid_qty_1..``, ``ask_px_1..``, ``ask_qty_1..``).
    levels : int, optional
        Levels to keep (default: all of the frame's).
    dtype : numpy dtype
        float32 by default (what the models train on). Prices of about 60,000 keep a
        resolution of 1/256 in float32; normalise them relative to the mid
        (``prices="relative"``) when that matters.

    Returns
    -------
    numpy.ndarray
        ``(N, 4 L)``, one row per row of ``frame``, columns in :func:`lob_columns` order.

    Raises
    ------
    ValueError
        When the frame has no book levels.

    Examples
    --------
    >>> from lobutils.schema import book_columns
    >>> f = pd.DataFrame([[0, 0, 1, 99.0, 2.0, 101.0, 3.0]], columns=book_columns(1))
    >>> lob_matrix(f).tolist()
    [[101.0, 3.0, 99.0, 2.0]]
    """
    if levels is None:
        levels = sum(1 for c in frame.columns if c.startswith("bid_px_"))
    if levels < 1:
        raise ValueError("the frame has no book levels")
    return frame[lob_columns(levels)].to_numpy(dtype=dtype)


# --------------------------------------------------------------------------------------
# which windows exist
# --------------------------------------------------------------------------------------


def window_ends(
    valid: np.ndarray, T: int, blocks: np.ndarray | None = None, candidates: Any = None
) -> np.ndarray:
    """Rows ``e`` whose window, the ``T`` rows up to ``e``, is fully valid and inside one block.

    The window of ``e`` is rows ``e - T + 1`` to ``e``, both included.

    Parameters
    ----------
    valid : array of bool (N,)
        Rows that may enter a window (finite book, no gap).
    T : int
        Window length.
    blocks : array (N,), optional
        A block id per row (segment, split part, day); a window must not cross a change of id.
    candidates : array of int or bool mask, optional
        Keep only these rows (e.g. rows with a target).

    Returns
    -------
    numpy.ndarray of int64
        The window ends, sorted.

    Raises
    ------
    ValueError
        When ``T < 1``, or ``blocks`` or a ``candidates`` mask does not have one entry per row.

    Examples
    --------
    >>> v = np.array([1, 1, 1, 0, 1, 1, 1, 1], bool)
    >>> window_ends(v, 3).tolist()
    [2, 6, 7]
    >>> window_ends(v, 2, blocks=np.array([0, 0, 0, 0, 0, 1, 1, 1])).tolist()
    [1, 2, 6, 7]
    """
    ok = np.asarray(valid, dtype=bool)
    n = ok.size
    if T < 1:
        raise ValueError(f"T must be >= 1, got {T}")
    if n < T:
        return np.empty(0, dtype=np.int64)
    bad = np.r_[0, np.cumsum(~ok)]
    e = np.arange(T - 1, n)
    good = bad[e + 1] - bad[e + 1 - T] == 0
    if blocks is not None:
        b = np.asarray(blocks)
        if b.shape != (n,):
            raise ValueError(f"blocks has shape {b.shape}, expected ({n},)")
        change = np.r_[0, np.cumsum(b[1:] != b[:-1])]
        good &= change[e] == change[e + 1 - T]
    out = e[good].astype(np.int64)
    if candidates is not None:
        c = np.asarray(candidates)
        if c.dtype == bool:
            if c.shape != (n,):
                raise ValueError(f"candidates mask has shape {c.shape}, expected ({n},)")
            out = out[c[out]]
        else:
            out = np.intersect1d(out, c.astype(np.int64))
    return out


def training_rows(ends: np.ndarray, T: int, n: int) -> np.ndarray:
    """The rows that the windows ending at ``ends`` read (the rows normalisation may use).

    Parameters
    ----------
    ends : numpy.ndarray of int
        Window ends (training windows).
    T : int
        Window length.
    n : int
        Rows of the data.

    Returns
    -------
    numpy.ndarray of int64
        Every row that some window reads, sorted, each once.

    Raises
    ------
    ValueError
        When a window would start before row 0 or end after row ``n - 1``.

    Examples
    --------
    >>> training_rows(np.array([3, 4, 9]), T=2, n=10).tolist()
    [2, 3, 4, 8, 9]
    """
    e = np.asarray(ends, dtype=np.int64)
    if e.size == 0:
        return e
    if e.min() < T - 1 or e.max() >= n:
        raise ValueError("a window end lies outside the data")
    diff = np.zeros(n + 1, dtype=np.int64)
    np.add.at(diff, e - T + 1, 1)
    np.add.at(diff, e + 1, -1)
    return np.flatnonzero(np.cumsum(diff[:-1]) > 0)


# --------------------------------------------------------------------------------------
# normalisation
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Normalizer:
    """Per-group normalisation of windows, with statistics fitted on training rows.

    Attributes
    ----------
    mean, std : numpy.ndarray (F,)
        Per column, but equal within a group (fitted per group).
    prices : {"zscore", "relative"}
        ``"zscore"``: ``(p - mean) / std`` of the raw prices (DeepLOB's choice, with
        statistics of earlier days). ``"relative"``: the prices of a window are first
        expressed in bps of the mid at its *last* row, ``1e4 (p / mid_e - 1)``, which keeps
        the moves inside the window and drops the price level, a unit-root series that the
        test period can leave (chapter 5); the z-score then applies to those bps.
    sizes : {"zscore", "log"}
        ``"log"`` takes ``log1p`` of the sizes before the z-score (sizes are heavy-tailed).
    price_cols, size_cols : numpy.ndarray
        The groups' column indices.
    ask_col, bid_col : int
        The level-1 ask and bid price columns (the mid of ``"relative"``).
    n_rows : int
        Training rows (or windows, for ``"relative"``) the statistics came from.
    """

    mean: np.ndarray
    std: np.ndarray
    prices: Literal["zscore", "relative"] = "zscore"
    sizes: Literal["zscore", "log"] = "zscore"
    price_cols: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    size_cols: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ask_col: int = 0
    bid_col: int = 2
    n_rows: int = 0

    def transform_raw(self, windows: np.ndarray) -> np.ndarray:
        """The pre-z-score transform (relative prices, log sizes).

        Parameters
        ----------
        windows : numpy.ndarray
            Windows ``(..., T, F)`` (or rows ``(..., F)`` for ``"zscore"`` prices).

        Returns
        -------
        numpy.ndarray
            A float64 copy, shape kept: prices in bps of each window's last mid for
            ``"relative"``, ``log1p`` sizes for ``"log"``.
        """
        x = np.array(windows, dtype=np.float64)
        if self.prices == "relative" and self.price_cols.size:
            mid = 0.5 * (x[..., -1:, self.ask_col] + x[..., -1:, self.bid_col])
            x[..., self.price_cols] = BPS * (x[..., self.price_cols] / mid[..., None] - 1.0)
        if self.sizes == "log" and self.size_cols.size:
            x[..., self.size_cols] = np.log1p(np.maximum(x[..., self.size_cols], 0.0))
        return x

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        """Normalise windows ``(..., T, F)`` (or rows ``(..., F)`` for ``"zscore"`` prices)."""
        x = self.transform_raw(windows)
        return ((x - self.mean) / self.std).astype(np.float32)


def fit_normalizer(
    data: np.ndarray,
    train_ends: np.ndarray,
    T: int,
    *,
    groups: Mapping[str, Sequence[int]] | None = None,
    prices: Literal["zscore", "relative"] = "zscore",
    sizes: Literal["zscore", "log"] = "zscore",
    max_windows: int = 2000,
    seed: int = 0,
) -> Normalizer:
    """Fit a :class:`Normalizer` on the rows read by the *training* windows only.

    Parameters
    ----------
    data : array (N, F)
        A :func:`lob_matrix` layout (or any layout with ``groups``).
    train_ends : array of int
        Ends of the training windows; the statistics use the rows these windows read
        (:func:`training_rows`) and nothing else.
    T : int
        Window length (rows).
    groups : mapping, optional
        ``{"prices": cols, "sizes": cols}``; default :func:`lob_groups`. Columns in no group
        get their own mean and std.
    prices, sizes : str
        See :class:`Normalizer`.
    max_windows : int
        ``"relative"`` prices depend on the window; their statistics come from at most this
        many evenly spaced training windows.
    seed : int
        Unused (the subsample is evenly spaced, hence deterministic); kept for symmetry.

    Returns
    -------
    Normalizer
        Per-group means and standard deviations of the training rows.

    Raises
    ------
    ValueError
        For an unknown normalisation, no training windows, or non-finite statistics.

    Examples
    --------
    >>> X = np.c_[np.full(6, 100.0), np.ones(6), np.full(6, 99.0), np.ones(6)]
    >>> X[5] = 1e9  # a test row: never seen by the fit
    >>> nz = fit_normalizer(X, np.array([2, 3]), T=2)
    >>> float(nz.mean[0]), float(nz.mean[1]), nz.n_rows
    (99.5, 1.0, 3)
    """
    del seed
    if prices not in ("zscore", "relative") or sizes not in ("zscore", "log"):
        raise ValueError(f"unknown normalisation prices={prices!r} sizes={sizes!r}")
    n, F = data.shape
    g = dict(groups) if groups is not None else lob_groups(F)
    pc = np.asarray(g.get("prices", []), dtype=np.int64)
    sc = np.asarray(g.get("sizes", []), dtype=np.int64)
    ends = np.asarray(train_ends, dtype=np.int64)
    if ends.size == 0:
        raise ValueError("no training windows to fit the normalisation on")
    proto = Normalizer(
        np.zeros(F),
        np.ones(F),
        prices,
        sizes,
        pc,
        sc,
        int(pc[0]) if pc.size else 0,
        int(pc[1]) if pc.size > 1 else 0,
    )
    if prices == "relative":
        pick = ends[
            np.unique(np.linspace(0, ends.size - 1, min(max_windows, ends.size)).astype(int))
        ]
        win = sliding_window_view(data, T, axis=0)[pick - T + 1]  # (k, F, T), a view
        x = proto.transform_raw(np.swapaxes(win, 1, 2)).reshape(-1, F)
        n_used = int(pick.size)
    else:
        rows = training_rows(ends, T, n)
        x = proto.transform_raw(np.asarray(data[rows]))
        n_used = int(rows.size)
    mean = np.zeros(F)
    std = np.ones(F)
    grouped = np.zeros(F, dtype=bool)
    for cols in (pc, sc):
        if cols.size:
            v = x[:, cols]
            mean[cols] = np.nanmean(v)
            sd = np.nanstd(v)
            std[cols] = sd if sd > 0 else 1.0
            grouped[cols] = True
    for j in np.flatnonzero(~grouped):
        mean[j] = np.nanmean(x[:, j])
        sd = np.nanstd(x[:, j])
        std[j] = sd if sd > 0 else 1.0
    if not (np.isfinite(mean).all() and np.isfinite(std).all()):
        raise ValueError("the training rows give non-finite statistics (NaN rows in windows?)")
    return Normalizer(mean, std, prices, sizes, pc, sc, proto.ask_col, proto.bid_col, n_used)


# --------------------------------------------------------------------------------------
# the dataset
# --------------------------------------------------------------------------------------


class WindowDataset(keras.utils.PyDataset):
    """Batches of windows ``data[e - T + 1 : e + 1]`` for the ends ``e``, without a window copy.

    Parameters
    ----------
    data : array (N, F)
        NumPy array or read-only memory map (``np.load(path, mmap_mode="r")``).
    ends : array of int
        Rows where the windows end (their target rows); see :func:`window_ends`.
    T : int
        Window length.
    y : array (len(ends), ...) or dict of such arrays, optional
        Targets aligned with ``ends`` (not with the rows of ``data``). Without ``y`` a batch
        is ``(x,)``, for ``predict``.
    batch_size : int
        Windows per batch (the last batch may be shorter).
    normalizer : Normalizer or sequence of Normalizer, optional
        Applied to each batch; fit it with :func:`fit_normalizer` on training windows. Pooled
        data (several segments in one array) take one normalizer per segment and
        ``normalizer_index``.
    normalizer_index : array of int (N,), optional
        Per row of ``data``, the position in ``normalizer`` of the one to use; a window uses
        the one of its last row.
    shuffle : bool
        Reshuffle the order of the windows at every epoch (seeded; training only).
    seed : int
        Seed of the shuffling.
    **kwargs
        ``workers``, ``use_multiprocessing``, ``max_queue_size`` of
        :class:`keras.utils.PyDataset`.

    Attributes
    ----------
    n_samples : int
        Number of windows.

    Examples
    --------
    >>> X = np.arange(12, dtype="float32").reshape(6, 2)
    >>> ds = WindowDataset(X, ends=[1, 3, 5], T=2, y=np.array([0, 1, 2]), batch_size=2)
    >>> len(ds), ds[1][0].tolist(), ds[1][1].tolist()
    (2, [[[8.0, 9.0], [10.0, 11.0]]], [2])
    """

    def __init__(
        self,
        data: np.ndarray,
        ends: Any,
        T: int,
        y: Any = None,
        *,
        batch_size: int = 64,
        normalizer: Normalizer | Sequence[Normalizer] | None = None,
        normalizer_index: np.ndarray | None = None,
        shuffle: bool = False,
        seed: int = 0,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if np.ndim(data) != 2:
            raise ValueError(f"data must be 2-D (N, F), got shape {np.shape(data)}")
        self.data = data
        self.T = int(T)
        self.ends = np.asarray(ends, dtype=np.int64)
        n = data.shape[0]
        if self.T < 1:
            raise ValueError(f"T must be >= 1, got {T}")
        if self.ends.size and (self.ends.min() < self.T - 1 or self.ends.max() >= n):
            raise ValueError(
                f"window ends must lie in [{self.T - 1}, {n - 1}] (a full window inside the data)"
            )
        self.y = y
        if y is not None:
            for k, v in y.items() if isinstance(y, Mapping) else [("y", y)]:
                if len(v) != self.ends.size:
                    raise ValueError(f"{k} has {len(v)} rows, but there are {self.ends.size} ends")
        self.batch_size = int(batch_size)
        if self.batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self.normalizer = normalizer
        if normalizer is not None and not isinstance(normalizer, Normalizer):
            self.normalizer = list(normalizer)
            if normalizer_index is None:
                raise ValueError("several normalizers need normalizer_index")
            idx = np.asarray(normalizer_index, dtype=np.int64)
            if idx.shape != (n,) or idx.min() < 0 or idx.max() >= len(self.normalizer):
                raise ValueError("normalizer_index must give a valid normalizer for every row")
            self.normalizer_index = idx
        else:
            self.normalizer_index = None
        self.shuffle = bool(shuffle)
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(self.ends.size)
        if self.shuffle:
            self._rng.shuffle(self._order)
        # A strided view (N - T + 1, F, T): window i starts at row i. No data is copied.
        self._view = sliding_window_view(data, self.T, axis=0)

    @property
    def n_samples(self) -> int:
        """Number of windows (``len(ends)``)."""
        return int(self.ends.size)

    def __len__(self) -> int:
        return -(-self.ends.size // self.batch_size)

    def batch_positions(self, index: int) -> np.ndarray:
        """Positions into ``ends`` (and ``y``) of batch ``index``.

        Parameters
        ----------
        index : int
            Batch number, ``0 <= index < len(self)``.

        Returns
        -------
        numpy.ndarray of int
            At most ``batch_size`` positions, in this epoch's order.

        Raises
        ------
        IndexError
            For a batch number out of range.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} of {len(self)}")
        return self._order[index * self.batch_size : (index + 1) * self.batch_size]

    def windows(self, positions: np.ndarray) -> np.ndarray:
        """Raw (not normalised) windows for positions into ``ends``.

        Parameters
        ----------
        positions : numpy.ndarray of int
            Positions into ``ends``.

        Returns
        -------
        numpy.ndarray
            ``(len(positions), T, F)`` in the dtype of ``data``.
        """
        starts = self.ends[positions] - self.T + 1
        return np.swapaxes(self._view[starts], 1, 2)

    def normalized(self, positions: np.ndarray) -> np.ndarray:
        """Normalised windows for positions into ``ends``.

        Parameters
        ----------
        positions : numpy.ndarray of int
            Positions into ``ends``.

        Returns
        -------
        numpy.ndarray
            float32 ``(len(positions), T, F)``, each window through its normaliser (the raw
            windows without one).
        """
        w = self.windows(positions)
        if self.normalizer is None:
            return np.asarray(w, np.float32)
        if self.normalizer_index is None:
            return self.normalizer(w)
        which = self.normalizer_index[self.ends[positions]]
        out = np.empty(w.shape, np.float32)
        for k in np.unique(which):
            sel = which == k
            out[sel] = self.normalizer[k](w[sel])
        return out

    def __getitem__(self, index: int):
        pos = self.batch_positions(index)
        x = self.normalized(pos)
        if self.y is None:
            return (x,)
        if isinstance(self.y, Mapping):
            return x, {k: np.asarray(v)[pos] for k, v in self.y.items()}
        return x, np.asarray(self.y)[pos]

    def on_epoch_end(self) -> None:
        """Reshuffle the order of the windows (Keras calls this after every epoch)."""
        if self.shuffle:
            self._rng.shuffle(self._order)


# --------------------------------------------------------------------------------------
# a recorded segment as book windows
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LOBData:
    """A segment's modelling table with its book in the DeepLOB layout, row for row.

    Attributes
    ----------
    dataset : lobutils.features.dataset.Dataset
        Features, forward targets and target ends (:func:`lobutils.features.dataset.build_dataset`).
    lob : numpy.ndarray (N, 4 L), float32
        The book at the same rows (:func:`lob_matrix` order).
    valid : numpy.ndarray of bool (N,)
        Rows whose book is complete (every level priced and sized, no gap): the rows a
        window may read.
    """

    dataset: Any = field(repr=False)
    lob: np.ndarray = field(repr=False)
    valid: np.ndarray = field(repr=False)

    @property
    def name(self) -> str:
        """The dataset's name (its segment)."""
        return self.dataset.name

    def __len__(self) -> int:
        return int(self.lob.shape[0])


def load_lob(
    source: Any,
    grid: str = "100ms",
    levels: int = 10,
    horizons: Sequence[int] = (10, 60),
    **dataset_kwargs: Any,
) -> LOBData:
    """Read a segment once; return its :class:`~lobutils.features.dataset.Dataset` and book windows.

    The book goes through the same steps as in :func:`lobutils.features.dataset.build_dataset`
    (replay with gap markers, then the last state at or before each grid time), so row ``i``
    of ``lob`` is the book at ``dataset.ts[i]``.

    Parameters
    ----------
    source : lobutils.data.catalog.Segment, path(s) or lobutils.data.binance.Recording
        The recording: a catalog segment, its files, or one already read.
    grid : str
        Clock grid (``"100ms"``); event time (None) is not supported here.
    levels : int
        Book levels kept (``4 x levels`` columns).
    horizons : sequence of int
        Target horizons in seconds.
    **dataset_kwargs
        Passed to :func:`lobutils.features.dataset.build_dataset`.

    Returns
    -------
    LOBData
        The dataset and the book at its rows, with the rows a window may read.

    Raises
    ------
    ValueError
        When ``grid`` is None.

    Examples
    --------
    >>> from lobutils.data.catalog import segment
    >>> d = load_lob(segment("usdm_btcusdt"), grid="1s", levels=10, horizons=(10,))
    >>> d.lob.shape[1], len(d) == len(d.dataset), bool(d.valid.mean() > 0.9)
    (40, True, True)
    """
    from lobutils.book import replay as _book
    from lobutils.book import sampling as _sampling
    from lobutils.data import binance as _io
    from lobutils.data.catalog import Segment
    from lobutils.features.dataset import build_dataset

    if grid is None:
        raise ValueError("load_lob needs a clock grid (e.g. '100ms')")
    if isinstance(source, Segment):
        files = source.files
        rec = _io.read_binance_recording(files)
        ds = build_dataset(source, grid=grid, levels=levels, horizons=horizons, **dataset_kwargs)
    else:
        rec = source if isinstance(source, _io.Recording) else _io.read_binance_recording(source)
        ds = build_dataset(rec, grid=grid, levels=levels, horizons=horizons, **dataset_kwargs)
    frame = _book.reconstruct(rec, levels=int(levels), include_invalid=True).frame
    clock = _sampling.sample_clock(frame, grid).reset_index(drop=True)
    if not np.array_equal(clock["ts"].to_numpy(np.int64), ds.ts):
        raise RuntimeError("the book grid and the dataset rows disagree")
    lob = lob_matrix(clock, levels)
    g = lob_groups(lob.shape[1])
    valid = np.isfinite(lob).all(axis=1) & (lob[:, g["sizes"]] > 0).all(axis=1)
    valid &= (lob[:, g["prices"]] > 0).all(axis=1)
    return LOBData(ds, lob, valid)
