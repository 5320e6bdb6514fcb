"""MNIST loader: hash pinning before unpickling, numpy-only unpickler, k/255 pixels, split sizes."""

import gzip
import io
import os
import pickle

import numpy as np
import pytest

from classical.data import MNIST_SHA256, load_fashion_mnist, load_mnist, sha256_file


def test_rejects_file_with_wrong_hash(tmp_path):
    fake = tmp_path / "mnist.pkl.gz"
    with gzip.open(fake, "wb") as fh:
        pickle.dump(((np.zeros((2, 784)), np.zeros(2)),) * 3, fh)
    with pytest.raises(ValueError, match="sha256"):
        load_mnist(source=fake, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_refuses_non_numpy_globals_even_with_matching_hash(tmp_path):
    fake = tmp_path / "evil.pkl.gz"
    buf = io.BytesIO()
    pickle.dump((_Evil(), None, None), buf, protocol=2)
    with gzip.open(fake, "wb") as fh:
        fh.write(buf.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_mnist(source=fake, cache_dir=tmp_path, expected_sha256=sha256_file(fake))


def test_synthetic_k_over_256_file_is_rescaled_to_k_over_255(tmp_path):
    rng = np.random.default_rng(0)
    ks = [rng.integers(0, 256, size=(n, 784)) for n in (3, 2, 2)]
    obj = tuple((k / 256.0, np.arange(len(k))) for k in ks)
    src = tmp_path / "m.pkl.gz"
    with gzip.open(src, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)
    d = load_mnist("train", source=src, cache_dir=tmp_path, expected_sha256=sha256_file(src))
    assert d.images.shape == (5, 1, 28, 28)
    np.testing.assert_allclose(d.images.reshape(5, -1) * 255.0, np.concatenate(ks[:2]), atol=1e-4)
    # second call reads the verified cache; a corrupted cache is detected and rebuilt
    npz = next(tmp_path.glob("mnist_*.npz"))
    npz.write_bytes(npz.read_bytes()[:-10] + b"0123456789")
    d2 = load_mnist("test", source=src, cache_dir=tmp_path, expected_sha256=sha256_file(src))
    np.testing.assert_allclose(d2.images.reshape(2, -1) * 255.0, ks[2], atol=1e-4)


def test_real_mnist_splits_and_pixel_grid():
    src_hash = MNIST_SHA256
    tr, te = load_mnist("train"), load_mnist("test")
    assert src_hash == MNIST_SHA256
    assert tr.images.shape == (60000, 1, 28, 28) and te.images.shape == (10000, 1, 28, 28)
    assert tr.images.min() == 0.0 and tr.images.max() == 1.0
    k = te.images * 255.0
    np.testing.assert_allclose(k, np.rint(k), atol=1e-4)  # exact k/255 grid (torchvision's ToTensor)
    counts = np.bincount(te.labels, minlength=10)
    assert counts.sum() == 10000 and counts.min() > 800  # every digit present


def test_bad_arguments_and_missing_fashion(tmp_path):
    with pytest.raises(ValueError, match="split"):
        load_mnist("validation")
    with pytest.raises(FileNotFoundError):
        load_mnist(source=tmp_path / "nope.pkl.gz")
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist(root=tmp_path)


def _synthetic_source(tmp_path):
    rng = np.random.default_rng(0)
    obj = tuple((rng.integers(0, 256, size=(n, 784)) / 256.0, np.arange(n)) for n in (3, 2, 2))
    src = tmp_path / "m.pkl.gz"
    with gzip.open(src, "wb") as fh:
        pickle.dump(obj, fh, protocol=2)
    return src


def test_issue13_item11_killed_conversion_leaves_no_temp_file_behind(tmp_path):
    import subprocess
    import sys
    import time

    from quantum_diffusion.io import TEMP_PREFIX

    src, cache = _synthetic_source(tmp_path), tmp_path / "cache"
    # a conversion killed while writing the npz: its temp file is named after its (now dead) process
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    cache.mkdir()
    import socket

    host = socket.gethostname().replace(".", "_")
    stale = cache / f"{TEMP_PREFIX}{host}.{dead.pid}.mnist_0123.npz.x1y2"
    stale.write_bytes(b"\0" * 4096)
    old = time.time() - 3600
    os.utime(stale, (old, old))
    d = load_mnist("test", source=src, cache_dir=cache, expected_sha256=sha256_file(src))
    assert len(d) == 2 and not stale.exists()
    assert not [f for f in cache.iterdir() if f.name.startswith(TEMP_PREFIX)]


@pytest.mark.parametrize(("kw", "match"), [
    ({"limit": 0}, "limit"), ({"limit": 2.5}, "limit"), ({"limit": True}, "limit"),
    ({"expected_sha256": "abc"}, "expected_sha256"),
])
def test_load_mnist_argument_errors_name_the_argument(tmp_path, kw, match):
    with pytest.raises(ValueError, match=match):
        load_mnist("test", source=_synthetic_source(tmp_path), cache_dir=tmp_path, **kw)
