"""DistributedDataParallel with 2 gloo processes on CPU matches single-process training."""

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from classical.train import TrainConfig, train

# SGD: the comparison is about sharding + gradient all-reduce; Adam's first step lr*g/(|g|+eps) would turn
# round-off on the exactly-zero gradients of conv biases in front of GroupNorm into O(lr) differences.
CFG = TrainConfig({"kind": "global", "width": 4, "emb": 8, "image_size": 8}, steps=2, batch_size=8, lr=0.5,
                  warmup=1, seed=5, grad_clip=None, optimizer="sgd")


def _data():
    return torch.rand(16, 1, 8, 8, generator=torch.Generator().manual_seed(0))


def _worker(rank, world, store, out):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{store}", rank=rank, world_size=world)
    try:
        train(CFG, _data(), out, device="cpu", progress=False)
    finally:
        dist.destroy_process_group()


def test_ddp_two_gloo_processes_match_single_process(tmp_path, atol=1e-6, min_move=1e-3):
    single = train(CFG, _data(), tmp_path / "single.pt", device="cpu", progress=False).model.state_dict()
    mp.start_processes(_worker, args=(2, str(tmp_path / "store"), str(tmp_path / "ddp.pt")), nprocs=2,
                       join=True, start_method="spawn")
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=True)
    assert ddp["step"] == CFG.steps
    for k, v in single.items():
        torch.testing.assert_close(ddp["model"][k], v, atol=atol, rtol=0)
    # the steps really moved the weights (so the comparison is not vacuous) ...
    init = train(TrainConfig(**{**CFG.__dict__, "lr": 1e-12}), _data(), tmp_path / "init.pt", device="cpu",
                 progress=False).model.state_dict()
    assert max((single[k] - init[k]).abs().max().item() for k in single) > min_move
    # ... and training on half the batch only (one rank without all-reduce) gives different weights
    half = train(TrainConfig(**{**CFG.__dict__, "batch_size": 4}), _data(), tmp_path / "half.pt", device="cpu",
                 progress=False).model.state_dict()
    assert max((single[k] - half[k]).abs().max().item() for k in single) > 10 * atol
