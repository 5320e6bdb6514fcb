r"""Sample quality and compute: a small MNIST classifier, classifier-feature FID, confident-label rate, FLOPs.

FID between feature sets with means :math:`\mu_{1,2}` and covariances :math:`\Sigma_{1,2}`:

.. math::

    \mathrm{FID} = \|\mu_1 - \mu_2\|^2
        + \mathrm{tr}\big(\Sigma_1 + \Sigma_2 - 2 (\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})^{1/2}\big),

computed on the 64-dimensional penultimate features of :class:`MnistClassifier` (not Inception: numbers are
comparable only within this package).  The confident-label rate is the fraction of samples whose top softmax
probability exceeds a threshold (0.9).  FLOPs are counted with ``torch.utils.flop_counter.FlopCounterMode``
(one multiply-add = 2 FLOPs; convolutions, matmuls; elementwise ops are not counted).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode
from tqdm.auto import tqdm

from quantum_diffusion.io import atomic_write

from .path import check_images
from .train import CheckpointError, nonfinite_entry, read_torch_file

__all__ = [
    "MnistClassifier",
    "train_classifier",
    "load_or_train_classifier",
    "classifier_features",
    "frechet_distance",
    "confident_rate",
    "count_flops",
]


class MnistClassifier(nn.Module):
    """Small MNIST classifier.

    conv(1->16, 3) -> ReLU -> pool -> conv(16->32, 3) -> ReLU -> pool -> Linear(1568->64) -> ReLU -> Linear(64->10).
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, padding=1)
        self.f1 = nn.Linear(32 * 7 * 7, 64)
        self.f2 = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate features, shape (B, 64)."""
        check_images(x, "x", channels=1)
        if x.shape[-2:] != (28, 28):
            raise ValueError(f"the classifier needs 28x28 images, got {tuple(x.shape)}")
        h = F.max_pool2d(F.relu(self.c1(x)), 2)
        h = F.max_pool2d(F.relu(self.c2(h)), 2)
        return F.relu(self.f1(h.flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits for images ``x`` of shape (B, 1, 28, 28)."""
        return self.f2(self.features(x))


def train_classifier(images: np.ndarray, labels: np.ndarray, *, epochs: int = 1, batch_size: int = 128,
                     lr: float = 2e-3, seed: int = 0, progress: bool = True) -> MnistClassifier:
    """Train :class:`MnistClassifier` with Adam and cross-entropy (seeded).

    Raises
    ------
    ValueError
        Mismatched images/labels or bad hyper-parameters.
    """
    x = torch.as_tensor(images, dtype=torch.float32)
    y = torch.as_tensor(labels, dtype=torch.int64)
    if x.shape[0] != y.shape[0] or epochs < 1 or batch_size < 1:
        raise ValueError(f"need matching images/labels and positive epochs/batch, got {x.shape}, {y.shape}")
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MnistClassifier()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    bar = tqdm(total=epochs * (n // batch_size), desc="classifier", disable=not progress, leave=False)
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(n // batch_size):
            idx = perm[i * batch_size:(i + 1) * batch_size]
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            bar.update(1)
    bar.close()
    return model.eval()


def load_or_train_classifier(path: str | os.PathLike, images: np.ndarray, labels: np.ndarray,
                             **kwargs) -> MnistClassifier:
    """Load the cached classifier weights at ``path``, or train it once and cache it atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Cache file (written by this function).
    images, labels : numpy.ndarray
        Training digits ``(N, 1, H, W)`` and their labels ``(N,)``, used only when the cache is missing.
    **kwargs
        Passed to :func:`train_classifier`.

    Returns
    -------
    MnistClassifier
        The classifier, in eval mode.

    Raises
    ------
    classical.train.CheckpointError
        If the cache exists but is empty, truncated, corrupt, non-finite or not this classifier's weights (the
        message names the file; delete it to retrain).  A bad cache is never used and never silently replaced.
    """
    path = Path(path)
    model = MnistClassifier()
    if path.is_file():
        hint = f"delete {path} to retrain the classifier (about a minute)"
        state = read_torch_file(path, hint=hint, what="classifier cache")
        bad = nonfinite_entry(state) if isinstance(state, dict) else None
        if bad is not None:
            raise CheckpointError(f"classifier cache {path} holds non-finite parameter {bad!r}; {hint}")
        try:
            model.load_state_dict(state)
        except (RuntimeError, TypeError, AttributeError) as exc:
            raise CheckpointError(f"classifier cache {path} does not hold this classifier's weights ({exc}); "
                                  f"{hint}") from exc
        return model.eval()
    model = train_classifier(images, labels, **kwargs)
    import io

    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    atomic_write(path, lambda fh: fh.write(buf.getvalue()))
    return model


@torch.no_grad()
def classifier_features(model: MnistClassifier, x: torch.Tensor, *, batch_size: int = 512
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Return (features (B, 64), softmax probabilities (B, 10)) as float64 numpy arrays."""
    feats, probs = [], []
    for i in range(0, x.shape[0], batch_size):
        f = model.features(x[i:i + batch_size].float().cpu())
        feats.append(f)
        probs.append(torch.softmax(model.f2(f), dim=1))
    return torch.cat(feats).double().numpy(), torch.cat(probs).double().numpy()


def frechet_distance(f1: np.ndarray, f2: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets of shape (n_i, d).

    Raises
    ------
    ValueError
        If the arrays are not 2-D with the same d and at least 2 rows each.
    """
    f1, f2 = np.asarray(f1, float), np.asarray(f2, float)
    if f1.ndim != 2 or f2.ndim != 2 or f1.shape[1] != f2.shape[1] or min(len(f1), len(f2)) < 2:
        raise ValueError(f"need feature arrays (n1, d), (n2, d) with n >= 2, got {f1.shape}, {f2.shape}")
    m1, m2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.atleast_2d(np.cov(f1, rowvar=False)), np.atleast_2d(np.cov(f2, rowvar=False))
    # tr (S1^1/2 S2 S1^1/2)^1/2 through symmetric eigendecompositions: robust for the singular covariances
    # that dead ReLU features produce (where scipy.linalg.sqrtm warns and loses accuracy).
    w, v = scipy.linalg.eigh(s1)
    r1 = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    lam = scipy.linalg.eigvalsh(r1 @ s2 @ r1)
    tr = np.trace(s1) + np.trace(s2) - 2.0 * float(np.sum(np.sqrt(np.clip(lam, 0.0, None))))
    return float(np.sum((m1 - m2) ** 2) + max(tr, 0.0))


def confident_rate(probs: np.ndarray, threshold: float = 0.9) -> float:
    """Fraction of rows of ``probs`` (B, K) whose maximum exceeds ``threshold``.

    Raises
    ------
    ValueError
        If ``threshold`` is outside (0, 1) or ``probs`` is not 2-D.
    """
    if not (0.0 < threshold < 1.0):
        raise ValueError(f"threshold must lie in (0, 1), got {threshold}")
    probs = np.asarray(probs)
    if probs.ndim != 2:
        raise ValueError(f"probs must have shape (B, K), got {probs.shape}")
    return float(np.mean(probs.max(axis=1) > threshold))


def count_flops(fn: Callable[[], object]) -> int:
    """Total FLOPs (2 per multiply-add) of calling ``fn()`` as counted by ``FlopCounterMode``."""
    with FlopCounterMode(display=False) as fc:
        fn()
    return int(fc.get_total_flops())
