"""Flow-matching training: loss decreases, resume == uninterrupted, checkpoint errors."""

import pytest
import torch

from classical.train import TrainConfig, load_checkpoint, load_model, named_config, train

TINY_GLOBAL = {"kind": "global", "width": 4, "emb": 8, "pos_channels": True, "image_size": 8}
TINY_LOCAL = {"kind": "local", "R": 2, "base": 4, "emb": 8, "mults": [1, 2, 2, 2]}


def _blobs(n=64, size=8, seed=0):
    """Synthetic 'digits': a bright square at one of four positions."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, size, size)
    pos = torch.randint(0, 4, (n,), generator=g)
    for i, p in enumerate(pos.tolist()):
        r, c = divmod(p, 2)
        x[i, 0, 4 * r:4 * r + 3, 4 * c:4 * c + 3] = 1.0
    return x


def test_loss_decreases_on_tiny_dataset(tmp_path, ratio=0.5):
    cfg = TrainConfig(TINY_LOCAL, steps=120, batch_size=32, lr=1e-2, warmup=5, ckpt_every=1000)
    losses = train(cfg, _blobs(), tmp_path / "a.pt", progress=False).losses
    first, last = sum(losses[:15]) / 15, sum(losses[-15:]) / 15
    assert last < ratio * first, (first, last)


@pytest.mark.parametrize("model", [TINY_GLOBAL, TINY_LOCAL])
def test_resume_equals_uninterrupted(tmp_path, model):
    cfg = TrainConfig(model, steps=6, batch_size=16, lr=1e-2, warmup=2, ckpt_every=2, seed=3)
    data = _blobs(40)  # 2 batches per epoch: crosses epoch boundaries
    full = train(cfg, data, tmp_path / "full.pt", progress=False).model
    train(cfg, data, tmp_path / "part.pt", stop_after=3, progress=False)  # "killed" after 3 steps
    resumed = train(cfg, data, tmp_path / "part.pt", progress=False)
    assert resumed.step == 6 and len(resumed.losses) == 3
    for (k, a), b in zip(full.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    # a completed run is not trained further
    again = train(cfg, data, tmp_path / "part.pt", progress=False)
    assert again.losses == []


def test_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    cfg = TrainConfig(TINY_LOCAL, steps=1, batch_size=8)
    train(cfg, _blobs(16), tmp_path / "c.pt", progress=False)
    other = TrainConfig({**TINY_LOCAL, "R": 3}, steps=1, batch_size=8)
    with pytest.raises(ValueError, match="another configuration"):
        train(other, _blobs(16), tmp_path / "c.pt", progress=False)
    m = load_model(tmp_path / "c.pt", "cpu")
    assert m.R == 2 and not m.training
    with pytest.raises(ValueError, match="at least one batch"):
        train(cfg, _blobs(4), tmp_path / "d.pt", progress=False)
    with pytest.raises(ValueError, match="shape"):
        train(cfg, torch.zeros(16, 8, 8), tmp_path / "e.pt", progress=False)


def test_named_configs():
    g = named_config("paper")
    assert g.model["width"] == 64 and g.batch_size == 512 and g.steps == 15 * 118
    loc = named_config("cpu-small", "local", R=3)
    assert loc.model["R"] == 3 and loc.model["strict"]
    with pytest.raises(ValueError, match="radius"):
        named_config("cpu-small", "local")
    with pytest.raises(ValueError, match="unknown"):
        named_config("gpu-huge")


def test_schedule_free_resume_equals_uninterrupted_and_ends_on_the_average(tmp_path):
    """Schedule-free AdamW (the authors' optimiser): bit-exact resume; the final weights are the average x."""
    cfg = TrainConfig(TINY_LOCAL, steps=6, batch_size=16, lr=1e-2, warmup=2, ckpt_every=2, seed=3,
                      optimizer="schedulefree")
    data = _blobs(40)
    full = train(cfg, data, tmp_path / "full.pt", progress=False).model
    train(cfg, data, tmp_path / "part.pt", stop_after=3, progress=False)
    mid = {k: v.clone() for k, v in load_checkpoint(tmp_path / "part.pt")["model"].items()}
    resumed = train(cfg, data, tmp_path / "part.pt", progress=False)
    for (k, a), b in zip(full.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), k
    ck = load_checkpoint(tmp_path / "full.pt")
    assert all(g["train_mode"] is False for g in ck["optimizer"]["param_groups"])  # saved in eval mode (x)
    assert any(not torch.equal(mid[k], v) for k, v in ck["model"].items())
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(TINY_LOCAL, steps=1, batch_size=8, optimizer="adam")
