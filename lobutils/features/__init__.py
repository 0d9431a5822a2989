"""Stage 3, features and targets: what the models see and what they predict.

:mod:`lobutils.features.core`
    Causal book and trade features: mid, spread, microprice, VAMP, quote and trade imbalance,
    OFI and multi-level OFI, level returns and volumes, realised volatility (numba kernels in
    ``_kernels``, each beside a pure-Python reference). Everything there is importable from
    this package too.
:mod:`lobutils.features.targets`
    Forward returns, 3-class labels, the EMA target, and the look-ahead leakage audit.
:mod:`lobutils.features.stationarity`
    ADF and KPSS tests on every feature and target.
:mod:`lobutils.features.analysis`
    What the chapters measure on features and targets (chapters 3 to 5): per-market summaries,
    binned relations, correlations with future returns.
:mod:`lobutils.features.dataset`
    One recording segment as a modelling table: features, targets, target end times.

Examples
--------
>>> import numpy as np
>>> from lobutils import features as F
>>> F.mid(np.array([100.0]), np.array([100.5])).tolist()
[100.25]
"""

from lobutils.features.core import *  # noqa: F403
from lobutils.features.core import __all__  # noqa: F401
