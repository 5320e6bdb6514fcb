"""FID against the closed-form Fréchet distance of Gaussians; confident-label rate; FLOP counting."""

import numpy as np
import pytest
import torch

from classical.models import LocalUNet
from classical.quality import confident_rate, count_flops, frechet_distance


def test_fid_matches_closed_form_for_commuting_gaussians(n=200_000, rtol=0.03):
    rng = np.random.default_rng(0)
    m1, m2 = np.array([0.0, 1.0, -1.0]), np.array([0.5, 1.0, 0.0])
    v1, v2 = np.array([1.0, 4.0, 0.25]), np.array([2.0, 1.0, 0.25])
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))  # common rotation: covariances commute
    f1 = (m1 + rng.normal(size=(n, 3)) * np.sqrt(v1)) @ q.T
    f2 = (m2 + rng.normal(size=(n, 3)) * np.sqrt(v2)) @ q.T
    exact = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(v1) - np.sqrt(v2)) ** 2)
    assert frechet_distance(f1, f2) == pytest.approx(exact, rel=rtol)
    assert frechet_distance(f1, f1) == pytest.approx(0.0, abs=1e-6)


def test_fid_handles_singular_covariance():
    rng = np.random.default_rng(1)
    f = np.concatenate([rng.normal(size=(500, 2)), np.zeros((500, 1))], axis=1)  # a dead feature
    g = f + np.array([1.0, 0.0, 0.0])
    assert frechet_distance(f, g) == pytest.approx(1.0, abs=1e-6)


def test_confident_rate_and_errors():
    p = np.array([[0.95, 0.05], [0.5, 0.5], [0.1, 0.9], [0.0, 1.0]])
    assert confident_rate(p, 0.9) == 0.5
    with pytest.raises(ValueError):
        confident_rate(p, 1.5)
    with pytest.raises(ValueError):
        frechet_distance(np.zeros((5, 2)), np.zeros((5, 3)))


def test_flop_count_of_a_1x1_local_net_matches_hand_count():
    """R = 1 strict net without time MLP cost: count the conv multiply-adds by hand."""
    m = LocalUNet(1, base=2, emb=4, mults=(1, 1, 1, 1))
    x = torch.zeros(1, 1, 10, 10)
    px, c = 100, 2
    convs = 9 * 1 * c  # stem 3x3, 1 -> 2
    convs += 3 * (c * c + c * c)  # encoder: 1x1 conv + 1x1 conv
    convs += 3 * (2 * c * c + c * c)  # decoder: (2c -> c) + (c -> c)
    convs += c * 1  # output
    mlp = 4 * 16 + 16 * 4 + 6 * 4 * (2 * c)  # time MLP and six FiLM linears
    assert count_flops(lambda: m(x, torch.zeros(1))) == 2 * (convs * px + mlp)


def _write_good_cache(path):
    from classical.quality import MnistClassifier

    torch.manual_seed(0)
    model = MnistClassifier()
    torch.save(model.state_dict(), path)
    return model


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "nan", "wrong_keys"])
def test_corrupt_classifier_cache_names_the_file_and_is_kept(tmp_path, damage):
    """Regression (issue 13 leftover): a bad classifier cache gave a bare torch traceback or NaN weights."""
    from classical.quality import load_or_train_classifier
    from classical.train import CheckpointError

    path = tmp_path / "classifier.pt"
    model = _write_good_cache(path)
    raw = path.read_bytes()
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "truncated":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a torch file" * 100)
    elif damage == "nan":
        sd = model.state_dict()
        next(v for v in sd.values() if v.is_floating_point()).fill_(float("nan"))
        torch.save(sd, path)
    else:
        torch.save({"w": torch.zeros(3)}, path)
    before = path.read_bytes()
    images = np.zeros((4, 1, 28, 28), dtype=np.float32)
    with pytest.raises(CheckpointError, match=str(path).replace(".", r"\.")):
        load_or_train_classifier(path, images, np.zeros(4, dtype=np.int64))
    assert path.read_bytes() == before  # never silently replaced


def test_good_classifier_cache_loads_the_same_weights(tmp_path):
    from classical.quality import load_or_train_classifier

    path = tmp_path / "classifier.pt"
    model = _write_good_cache(path)
    loaded = load_or_train_classifier(path, np.zeros((4, 1, 28, 28), np.float32), np.zeros(4, np.int64))
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), k
