"""DeepLOB's official PyTorch architecture, ported as plain PyTorch, for timing comparisons.

The reference is the authors' notebook ``jupyter_pytorch/run_train_pytorch.ipynb`` in
github.com/zcakhaa/DeepLOB-Deep-Convolutional-Neural-Networks-for-Limit-Order-Books (class
``deeplob``, PyTorch 1.9). This port keeps its layout layer for layer:

* block 1: ``Conv2d(1, 32, (1, 2), stride (1, 2))`` then two ``Conv2d(32, 32, (4, 1))``, each
  followed by ``LeakyReLU(0.01)`` and ``BatchNorm2d(32)``;
* block 2: the same shapes with ``Tanh`` in place of the LeakyReLU (as in the reference);
* block 3: ``Conv2d(32, 32, (1, 10))`` then two ``(4, 1)`` convolutions, LeakyReLU + BatchNorm;
* the ``(4, 1)`` convolutions have no padding, so the time axis shrinks by 18 steps
  (100 -> 82) before the Inception module;
* Inception: 1x1 -> 3x1, 1x1 -> 5x1 (``padding="same"``) and a 3x1 max-pool -> 1x1, 64
  channels each, LeakyReLU + BatchNorm after every convolution;
* ``LSTM(192, 64, batch_first=True)`` from zero states, its last step into
  ``Linear(64, 3)`` and a softmax;
* training as in the notebook: ``nn.CrossEntropyLoss`` on the softmax output (the reference's
  double softmax, kept: it costs the same as the textbook form) and ``Adam(lr=1e-4)``.

That is **143,907** parameters for 40 features (the notebook's ``torchinfo`` summary). The
only changes are the ones a reusable module needs: the zero LSTM states follow the input's
device and dtype instead of a global ``device``, and the ``(1, 10)`` convolution is
``(1, n_features // 4)`` (10 for the 40 columns of 10 levels).

:func:`measure` times training steps the way the reference's loop runs them: the batch waits
on the host and is copied to the device every step, and every step ends with ``loss.item()``
(a device synchronisation), like Keras' ``train_on_batch`` in
:func:`lobutils.models.deeplob.measure_throughput`. The clock reads only after
``torch.cuda.synchronize()``. Inputs are SYNTHETIC (random).

Run alone (``benchmarks/bench_deeplob.py --compare-torch`` runs it next to Keras)::

    .venv/bin/python benchmarks/deeplob_torch.py [--batch 64] [--steps 20] [--T 100] [--device cpu]

The last line is JSON. Without PyTorch installed it says so and exits 0.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

if __name__ == "__main__":
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        print("PyTorch is not installed: nothing to measure (pip install torch)")
        raise SystemExit(0)

import torch  # noqa: E402
from torch import nn  # noqa: E402

REFERENCE_PARAMS = 143_907
"""Parameters of the authors' PyTorch DeepLOB for 40 features and 3 classes."""

TIME_LOST = 18
"""Time steps the six unpadded ``(4, 1)`` convolutions remove (3 each)."""


def _block(layers: list[tuple[int, int, tuple[int, int], tuple[int, int]]], act) -> nn.Sequential:
    mods: list[nn.Module] = []
    for c_in, c_out, kernel, stride in layers:
        mods += [
            nn.Conv2d(c_in, c_out, kernel_size=kernel, stride=stride),
            act(),
            nn.BatchNorm2d(c_out),
        ]
    return nn.Sequential(*mods)


def _leaky() -> nn.Module:
    return nn.LeakyReLU(negative_slope=0.01)


class DeepLOB(nn.Module):
    """The reference ``deeplob`` module; input ``(batch, 1, T, n_features)``, output softmax.

    Parameters
    ----------
    y_len : int
        Classes (3: down, stationary, up).
    n_features : int
        Columns per book state, 4 x levels (40 in the reference).
    """

    def __init__(self, y_len: int = 3, n_features: int = 40):
        super().__init__()
        if n_features % 4 or n_features < 4:
            raise ValueError(f"n_features must be 4 x levels, got {n_features}")
        self.y_len = y_len
        s1, s2 = (1, 1), (1, 2)
        self.conv1 = _block(
            [(1, 32, (1, 2), s2), (32, 32, (4, 1), s1), (32, 32, (4, 1), s1)], _leaky
        )
        self.conv2 = _block(
            [(32, 32, (1, 2), s2), (32, 32, (4, 1), s1), (32, 32, (4, 1), s1)], nn.Tanh
        )
        self.conv3 = _block(
            [(32, 32, (1, n_features // 4), s1), (32, 32, (4, 1), s1), (32, 32, (4, 1), s1)], _leaky
        )
        self.inp1 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=(1, 1), padding="same"),
            _leaky(),
            nn.BatchNorm2d(64),
            nn.Conv2d(64, 64, kernel_size=(3, 1), padding="same"),
            _leaky(),
            nn.BatchNorm2d(64),
        )
        self.inp2 = nn.Sequential(
            nn.Conv2d(32, 64, kernel_size=(1, 1), padding="same"),
            _leaky(),
            nn.BatchNorm2d(64),
            nn.Conv2d(64, 64, kernel_size=(5, 1), padding="same"),
            _leaky(),
            nn.BatchNorm2d(64),
        )
        self.inp3 = nn.Sequential(
            nn.MaxPool2d((3, 1), stride=(1, 1), padding=(1, 0)),
            nn.Conv2d(32, 64, kernel_size=(1, 1), padding="same"),
            _leaky(),
            nn.BatchNorm2d(64),
        )
        self.lstm = nn.LSTM(input_size=192, hidden_size=64, num_layers=1, batch_first=True)
        self.fc1 = nn.Linear(64, y_len)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h0 = torch.zeros(1, x.size(0), 64, device=x.device, dtype=x.dtype)
        c0 = torch.zeros(1, x.size(0), 64, device=x.device, dtype=x.dtype)
        x = self.conv1(x)
        x = self.conv2(x)
        x = self.conv3(x)
        x = torch.cat((self.inp1(x), self.inp2(x), self.inp3(x)), dim=1)
        x = x.permute(0, 2, 1, 3)  # (batch, T - 18, 192, 1)
        x = torch.reshape(x, (-1, x.shape[1], x.shape[2]))
        x, _ = self.lstm(x, (h0, c0))
        x = self.fc1(x[:, -1, :])
        return torch.softmax(x, dim=1)


def count_params(model: nn.Module) -> int:
    """Trainable parameters (what ``torchinfo.summary`` reports for the reference)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """``"auto"`` (or None): the first CUDA GPU when there is one, else the CPU."""
    if device in (None, "auto"):
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(
    batch: int = 64,
    steps: int = 20,
    T: int = 100,
    device: str | torch.device | None = "auto",
    *,
    warmup: int = 3,
    repeats: int = 1,
    n_features: int = 40,
    lr: float = 1e-4,
    seed: int = 0,
) -> dict:
    """Training samples per second of the reference DeepLOB on random inputs.

    ``warmup`` steps first (cuDNN handles, allocator growth), then ``repeats`` timed runs of
    ``steps`` steps each; ``samples_per_s`` is the median run's. Each step is the
    reference's: host batch -> device, ``zero_grad``, forward, cross-entropy, backward,
    ``Adam.step``, ``loss.item()``.

    Returns
    -------
    dict
        ``samples_per_s``, ``runs`` (samples/s of each run), ``seconds`` (all timed runs),
        ``steps``, ``batch_size``, ``T``, ``device``, ``device_name``, ``gpu``,
        ``parameters``, ``framework`` and ``version``.
    """
    if T <= TIME_LOST:
        raise ValueError(f"T must exceed {TIME_LOST} (the unpadded convolutions), got {T}")
    dev = resolve_device(device)
    torch.manual_seed(seed)
    model = DeepLOB(3, n_features).to(dev)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    # On the host, as the reference's DataLoader serves them; moved to the device every step.
    x_host = torch.randn(batch, 1, T, n_features, generator=gen, dtype=torch.float32)
    y_host = torch.randint(0, 3, (batch,), generator=gen, dtype=torch.int64)
    model.train()

    def step() -> float:
        inputs, targets = x_host.to(dev), y_host.to(dev)
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(max(0, warmup)):
        step()
    _sync(dev)
    runs, secs = [], []
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        _sync(dev)
        s = time.perf_counter() - t0
        secs.append(s)
        runs.append(steps * batch / s if s > 0 else float("nan"))
    med = statistics.median(runs)
    return {
        "samples_per_s": med,
        "runs": runs,
        "seconds": sum(secs),
        "steps": int(steps),
        "batch_size": int(batch),
        "T": int(T),
        "device": str(dev),
        "device_name": device_name(dev),
        "gpu": dev.type == "cuda",
        "parameters": count_params(model),
        "framework": "torch",
        "version": torch.__version__,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--device", default="auto", help='"auto" (GPU if any), "cpu", "cuda:0"')
    args = ap.parse_args(argv)
    r = measure(
        args.batch, args.steps, args.T, args.device, warmup=args.warmup, repeats=args.repeats
    )
    print(
        f"PyTorch reference DeepLOB ({r['parameters']:,} parameters) on {r['device_name']}: "
        f"{r['samples_per_s']:,.0f} samples/s (T={r['T']}, batch {r['batch_size']}, "
        f"{r['steps']} steps)"
    )
    print("RESULT " + json.dumps(r))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
