"""Flow-matching training: loss decreases, resume == uninterrupted, checkpoint errors."""

import pytest
import torch

from classical.train import (
    CheckpointError,
    NonFiniteTrainingError,
    TrainConfig,
    load_checkpoint,
    load_model,
    named_config,
    previous_checkpoint_path,
    train,
)

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


# --- issue 13, item 1: checkpoint integrity; item 9: training input validation -------------------------------

def _tiny_cfg(**kw):
    return TrainConfig(TINY_LOCAL, **{"steps": 2, "batch_size": 8, "warmup": 1, "ckpt_every": 2, **kw})


def test_issue13_item1_corrupt_checkpoint_refused(tmp_path, flip_tensor_byte):
    ck = tmp_path / "c.pt"
    train(_tiny_cfg(), _blobs(16), ck, progress=False)
    good = ck.read_bytes()
    record = flip_tensor_byte(ck)
    assert ck.read_bytes() != good and len(ck.read_bytes()) == len(good)
    with pytest.raises(CheckpointError, match=rf"{ck}.*corrupt.*{record}"):
        load_model(ck, "cpu")
    # a longer run refuses to start from it instead of saying "already trained" or training on garbage
    with pytest.raises(CheckpointError, match=str(ck)):
        train(_tiny_cfg(steps=4), _blobs(16), ck, progress=False)
    assert ck.read_bytes() != good and not previous_checkpoint_path(ck).exists()


@pytest.mark.parametrize("damage", ["empty", "truncated", "garbage", "not-a-checkpoint"])
def test_issue13_item1_unreadable_checkpoint_names_the_file(tmp_path, damage):
    ck = tmp_path / "c.pt"
    train(_tiny_cfg(), _blobs(16), ck, progress=False)
    raw = ck.read_bytes()
    if damage == "empty":
        ck.write_bytes(b"")
    elif damage == "truncated":
        ck.write_bytes(raw[: len(raw) // 2])
    elif damage == "garbage":
        ck.write_bytes(bytes(range(256)) * 8)
    else:
        torch.save({"weights": torch.zeros(3)}, ck)
    with pytest.raises(CheckpointError, match=str(ck)):
        load_checkpoint(ck)


def test_issue13_item1_stored_sha256_and_finite_parameters_checked(tmp_path):
    ck = tmp_path / "c.pt"
    train(_tiny_cfg(), _blobs(16), ck, progress=False)
    raw = torch.load(ck, weights_only=True)
    assert "sha256" in raw
    name = next(k for k, v in raw["model"].items() if v.is_floating_point())
    edited = {**raw, "model": {**raw["model"], name: raw["model"][name] + 1.0}}
    torch.save(edited, ck)  # valid zip, valid CRCs, stale hash
    with pytest.raises(CheckpointError, match=rf"{ck}.*SHA-256"):
        load_checkpoint(ck)
    legacy = {k: v for k, v in raw.items() if k != "sha256"}
    legacy["model"] = {**raw["model"], name: raw["model"][name] * float("nan")}
    torch.save(legacy, ck)
    with pytest.warns(UserWarning, match="no stored SHA-256"), pytest.raises(CheckpointError, match="non-finite"):
        load_checkpoint(ck)


def _nan_after(monkeypatch, n_good):
    """Make the training loss NaN from call n_good + 1 on (a run that diverges)."""
    import classical.train as tr

    real, calls = tr.flow_matching_loss, []

    def loss(*a, **k):
        calls.append(1)
        out = real(*a, **k)
        return out * float("nan") if len(calls) > n_good else out

    monkeypatch.setattr(tr, "flow_matching_loss", loss)


def test_issue13_item1_nonfinite_run_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, caplog):
    data = _blobs(16)
    ck, ref = tmp_path / "c.pt", tmp_path / "ref.pt"
    train(_tiny_cfg(steps=4), data, ref, stop_after=2, progress=False)
    train(_tiny_cfg(steps=4), data, ck, stop_after=2, progress=False)
    good = ck.read_bytes()
    # diverges at step 3 of a resumed run: stops with a clear error, the step-2 checkpoint stays
    _nan_after(monkeypatch, 0)
    with caplog.at_level("INFO", logger="classical.train"):
        with pytest.raises(NonFiniteTrainingError, match=rf"nan at step 3.*{ck} keeps the last good state \(step 2\)"):
            train(_tiny_cfg(steps=4), data, ck, progress=False)
    assert "resuming from step 2" in caplog.text
    assert ck.read_bytes() == good
    monkeypatch.undo()
    # a longer run that diverges after one more checkpoint: the newest good one is in place, the one before it
    # is kept beside it, and both load
    _nan_after(monkeypatch, 2)
    with pytest.raises(NonFiniteTrainingError, match=r"step 5.*\(step 4\)"):
        train(_tiny_cfg(steps=8), data, ck, progress=False)
    assert load_checkpoint(ck)["step"] == 4
    prev = previous_checkpoint_path(ck)
    assert prev.name == "c.prev.pt" and prev.read_bytes() == good
    a, b = load_model(prev, "cpu").state_dict(), load_model(ref, "cpu").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_issue13_item1_fresh_run_that_diverges_writes_nothing(tmp_path, monkeypatch):
    _nan_after(monkeypatch, 0)
    with pytest.raises(NonFiniteTrainingError, match="no checkpoint was written"):
        train(_tiny_cfg(), _blobs(16), tmp_path / "c.pt", progress=False)
    assert not (tmp_path / "c.pt").exists()


def test_issue13_item9_train_refuses_images_outside_unit_interval(tmp_path):
    with pytest.raises(ValueError, match=r"data: .*\[0, 1\].*observed range \[0, 255\]"):
        train(_tiny_cfg(), _blobs(16) * 255, tmp_path / "c.pt", progress=False)
    with pytest.raises(ValueError, match=r"observed range \[-1, 1\]"):
        train(_tiny_cfg(), _blobs(16) * 2 - 1, tmp_path / "c.pt", progress=False)
    assert not (tmp_path / "c.pt").exists()


@pytest.mark.parametrize(("field", "value", "exc"), [
    ("lr", float("nan"), ValueError), ("lr", 0.0, ValueError), ("lr", float("inf"), ValueError),
    ("lr", "1e-3", TypeError), ("steps", 0, ValueError), ("steps", 2.5, TypeError), ("batch_size", 0, ValueError),
    ("batch_size", True, TypeError), ("weight_decay", -1.0, ValueError), ("weight_decay", float("nan"), ValueError),
    ("warmup", -1, ValueError), ("grad_clip", 0.0, ValueError), ("grad_clip", float("nan"), ValueError),
    ("seed", -1, ValueError), ("ckpt_every", 0, ValueError), ("three_term", 1, TypeError),
    ("t_range", (0.5, 0.5), ValueError), ("t_range", (float("nan"), 1.0), ValueError), ("t_range", (0.0,), ValueError),
    ("optimizer", "adam", ValueError), ("model", {"kind": "huge"}, ValueError),
])
def test_issue13_item9_train_config_validates_every_field(field, value, exc):
    kw = {"model": TINY_LOCAL, "steps": 2, "batch_size": 8, field: value}
    with pytest.raises(exc, match=field):
        TrainConfig(**kw)


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


def test_issue13_item13_training_bar_is_not_redrawn_every_step_in_logs(tmp_path):
    """In a log file (not a terminal) the training bar honours tqdm's mininterval: set_postfix must not force a
    redraw per step (the demo's MNIST log had one redraw per optimiser step)."""
    import os
    import subprocess
    import sys

    code = (
        "import torch\n"
        "from classical.train import TrainConfig, train\n"
        f"cfg = TrainConfig({TINY_LOCAL!r}, steps=30, batch_size=8, warmup=1, ckpt_every=30)\n"
        "x = torch.rand(16, 1, 8, 8)\n"
        f"train(cfg, x, {str(tmp_path / 'c.pt')!r}, progress=True)\n"
    )
    log = tmp_path / "log.txt"
    env = {**os.environ, "TQDM_MININTERVAL": "60"}
    with open(log, "w") as fh:
        subprocess.run([sys.executable, "-c", code], stderr=fh, stdout=fh, env=env, check=True, timeout=120)
    redraws = log.read_text().count("train local:")  # one per redraw, whether tqdm ends them with \r or \n
    assert 1 <= redraws <= 4, f"{redraws} redraws of the training bar in a log file"


# ------------------------------------------------------------------ noise prediction with the curriculum (issue 12)
def test_curriculum_follows_the_authors_schedule(steps=150):
    """t_max: 0.1 at the start, 0.3 after 3 of 15 epochs, about 0.94 (not 1) in the last epoch (mnist.md §1d)."""
    from classical.train import curriculum_t_max

    per_epoch = steps // 15
    tmax = [curriculum_t_max(s, steps) for s in range(steps)]
    assert tmax[0] == pytest.approx(0.1)
    assert tmax[3 * per_epoch] == pytest.approx(0.3)
    assert tmax[-1] == pytest.approx(0.94, abs=0.005) and tmax[-1] < 1.0
    assert all(b >= a for a, b in zip(tmax, tmax[1:]))
    assert len(set(tmax)) == 15  # piecewise constant over the 15 virtual epochs
    with pytest.raises(ValueError, match="step"):
        curriculum_t_max(steps, steps)


def test_noise_prediction_config_is_validated():
    with pytest.raises(ValueError, match="three_term"):
        TrainConfig(TINY_LOCAL, steps=1, batch_size=8, prediction="noise")
    with pytest.raises(ValueError, match="prediction"):
        TrainConfig(TINY_LOCAL, steps=1, batch_size=8, prediction="score", three_term=False)
    with pytest.raises(ValueError, match="t_sampling"):
        TrainConfig(TINY_LOCAL, steps=1, batch_size=8, t_sampling="uniform")
    with pytest.raises(ValueError, match="t_range"):
        TrainConfig(TINY_LOCAL, steps=1, batch_size=8, t_sampling="curriculum", t_range=(0.2, 0.8))


def test_noise_to_velocity_is_exact_on_the_two_image_posterior():
    """A net returning the exact posterior noise E[z | x_t] of a two-image data set, wrapped, gives the ideal velocity.

    Independent sides: the wrapped predictor is the closed-form two-point posterior (a logistic weight), the reference
    is classical.ideal.IdealDenoiser's velocity.
    """
    from classical.ideal import IdealDenoiser
    from classical.train import NoisePredictionModel

    g = torch.Generator().manual_seed(0)
    imgs = torch.rand(2, 1, 4, 4, generator=g, dtype=torch.float64)

    class PosteriorNoise(torch.nn.Module):
        def forward(self, x, t):
            tb = t.reshape(-1, 1, 1, 1)
            d = ((x[:, None] - (1 - tb[:, None]) * imgs[None]) ** 2).sum((2, 3, 4))  # (B, 2)
            w1 = torch.sigmoid((d[:, 0] - d[:, 1]) / (2 * t**2)).reshape(-1, 1, 1, 1)  # P(x_0 = image 1 | x_t)
            x0 = (1 - w1) * imgs[0] + w1 * imgs[1]
            return (x - (1 - tb) * x0) / tb  # E[z | x_t], from x_t = (1 - t) x_0 + t z

    t = torch.tensor([0.05, 0.3, 0.6, 0.95], dtype=torch.float64)
    x = (1 - t.reshape(-1, 1, 1, 1)) * imgs[torch.tensor([0, 1, 1, 0])] + t.reshape(-1, 1, 1, 1) * torch.randn(
        4, 1, 4, 4, generator=g, dtype=torch.float64)
    model = NoisePredictionModel(PosteriorNoise())
    ideal = IdealDenoiser(imgs, dtype=torch.float64)
    torch.testing.assert_close(model(x, t), ideal(x, t), rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError, match="t = 1"):
        model(x, torch.ones(4, dtype=torch.float64))


@pytest.mark.slow
def test_noise_prediction_with_curriculum_learns_the_noise(tmp_path):
    """A tiny local net trained on z with the curriculum beats both trivial noise predictors, z_hat = 0 and x_t.

    Scored on fresh draws with t ~ U[0.1, 0.5] (where the curriculum spends most steps); the Bayes-optimal noise
    MSE of the ideal global denoiser on the same draws is the floor.  Through the wrapper, its velocity also beats
    the trivial v_hat = 0 (a net whose output is not a noise estimate fails that).
    """
    from classical.ideal import IdealDenoiser
    from classical.path import interpolate
    from classical.train import NoisePredictionModel

    data = _blobs(64)
    cfg = TrainConfig(TINY_LOCAL, steps=150, batch_size=32, lr=1e-2, warmup=5, ckpt_every=1000,
                      prediction="noise", three_term=False, t_sampling="curriculum")
    res = train(cfg, data, tmp_path / "n.pt", progress=False)
    assert isinstance(res.model, NoisePredictionModel)
    g = torch.Generator().manual_seed(7)
    x0 = data[torch.randint(0, 64, (256,), generator=g)]
    z = torch.randn(x0.shape, generator=g)
    t = 0.1 + 0.4 * torch.rand(256, generator=g)
    xt = interpolate(x0, z, t)
    with torch.no_grad():
        mse = float(torch.mean((res.model.eval().noise(xt, t) - z) ** 2))
        x0_hat = IdealDenoiser(data).denoise(xt, t)
    bayes = float(torch.mean(((xt - (1 - t.reshape(-1, 1, 1, 1)) * x0_hat) / t.reshape(-1, 1, 1, 1) - z) ** 2))
    trivial = min(1.0, float(torch.mean((xt - z) ** 2)))  # z_hat = 0 or z_hat = x_t
    assert bayes <= mse < 0.7 * trivial, (bayes, mse, trivial)
    with torch.no_grad():
        v_mse = float(torch.mean((res.model(xt, t) - (z - x0)) ** 2))
    assert v_mse < 0.7 * float(torch.mean((z - x0) ** 2)), v_mse
    loaded = load_model(tmp_path / "n.pt", "cpu")  # the checkpoint comes back as the same velocity model
    assert isinstance(loaded, NoisePredictionModel) and loaded.R == TINY_LOCAL["R"]
    with torch.no_grad():
        torch.testing.assert_close(loaded(xt, t), res.model(xt, t))
