"""Command line: ``python -m classical {train,recovery,hybrid,demo,cmi,ideal} ...`` (``main(argv)`` is testable).

``ideal`` runs the ideal-denoiser study (:mod:`classical.ideal_pipeline`): ``--preset paper`` is the one-GPU
paper run (``make paper-gpu``), ``--smoke`` its tiny CPU version; it prints its own time estimate, the timings
and the headline numbers, and writes PNG + JSON into ``--out``.

``train`` works under ``torchrun`` (DDP: NCCL on CUDA, gloo on CPU), e.g.
``torchrun --nproc_per_node 2 -m classical train --config paper --model global``.

Every argument is checked before torch is imported or anything is trained: a bad value exits at once with a
one-line ``usage``/``error`` message (status 2); a corrupt checkpoint, a diverging run or missing data ends
with a one-line ``error`` (status 1).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]

PROG = "python -m classical"
#: Local receptive radii the models support (``classical.models.LOCAL_KERNEL_RADII``; repeated here so that
#: arguments are checked without importing torch, a test keeps the two equal).
LOCAL_RADII = tuple(range(1, 13))
CONFIG_HELP = ("named training configuration: 'cpu-small' = small nets and 300 optimiser steps each (minutes on "
               "a laptop CPU); 'paper' = the paper's nets and 15 epochs (GPU hours)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _radius(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a local radius in 1..12, got {text!r}") from None
    if value not in LOCAL_RADII:
        raise argparse.ArgumentTypeError(f"local radius must be in {LOCAL_RADII[0]}..{LOCAL_RADII[-1]}, got {value}")
    return value


def _unit_time(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a time in [0, 1], got {text!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"time must lie in [0, 1], got {text}")
    return value


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Show ``(default: X)`` unless the help text already explains the default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default is None or "default" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action) or ""


class _OneLineParser(argparse.ArgumentParser):
    """An argparse parser whose errors are one line: ``prog: error: message (see prog --help)``, status 2."""

    def error(self, message: str):  # noqa: D102
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


class _DeprecatedAlias(argparse.Action):
    """Store into the new option's destination and say once (one line on stderr) which name to use."""

    def __init__(self, option_strings, dest, new: str = "", **kwargs):
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{PROG}: note: {option_string} is deprecated, use {self.new}", file=sys.stderr)
        setattr(namespace, self.dest, values)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``python -m classical``.

    Returns
    -------
    argparse.ArgumentParser
        Subcommands ``train``, ``recovery``, ``hybrid``, ``demo``, ``cmi`` and ``ideal``; every option has help
        and a shown default.
    """
    fmt = _HelpFormatter
    p = _OneLineParser(prog=PROG, description=__doc__.splitlines()[0], formatter_class=fmt)
    sub = p.add_subparsers(dest="cmd", required=True)

    def common(q: argparse.ArgumentParser) -> None:
        q.set_defaults(subparser=q)
        q.add_argument("--config", default="cpu-small", choices=["cpu-small", "paper"], help=CONFIG_HELP)
        q.add_argument("--cache-dir", type=Path, default=None,
                       help="checkpoints, classifier and MNIST cache (default: $QD_CACHE_DIR/classical or "
                            "~/.cache/quantum_diffusion/classical)")
        q.add_argument("--threads", type=_positive_int, default=None,
                       help="torch threads (default: 2, or 1 if the machine is busy)")
        q.add_argument("--train-steps", type=_positive_int, default=None,
                       help="optimiser steps per model (default: the configuration's)")

    t = sub.add_parser("train", help="train or resume one model from its checkpoint", formatter_class=fmt)
    common(t)
    t.add_argument("--model", choices=["global", "local"], default="global", help="which network to train")
    t.add_argument("--R", type=_radius, default=None,
                   help="receptive radius of the local model, 1..12 (default 3; only with --model local)")
    t.add_argument("--steps", type=_positive_int, dest="train_steps", action=_DeprecatedAlias,
                   new="--train-steps", help=argparse.SUPPRESS)
    t.add_argument("--prediction", choices=["velocity", "noise"], default="velocity",
                   help="velocity (default) or the authors' local-net protocol: noise prediction, plain MSE, "
                        "t ~ U[0.1, t_max] curriculum (checkpoint name gets the suffix _noise)")
    t.add_argument("--checkpoint", type=Path, default=None,
                   help="checkpoint file (default: <cache-dir>/checkpoints/<config>/global.pt or local_R<R>.pt); "
                        "the one a save replaces is kept as <name>.prev.pt")

    for name, hlp in [("recovery", "recovery MSE matrix over (t_f, R)"),
                      ("hybrid", "hybrid sampler panels and window scan"),
                      ("demo", "recovery + hybrid pipeline (trains what is missing)")]:
        q = sub.add_parser(name, help=hlp, formatter_class=fmt)
        common(q)
        q.add_argument("--out", type=Path, default=Path("results"), help="folder for the figures and JSON")
        q.add_argument("--radii", type=_radius, nargs="+", default=[1, 3, 6],
                       help="receptive radii (1..12) of the local nets trained and compared")
        q.add_argument("--hybrid-R", type=_radius, default=3,
                       help="local net used by the hybrid sampler (one of --radii)")
        q.add_argument("--window", type=_unit_time, nargs=2, default=[0.2, 0.5], metavar=("T_DN", "T_UP"),
                       help="time window where the hybrid sampler uses the global net")
        q.add_argument("--n-samples", type=_positive_int, default=256,
                       help="samples per hybrid panel (>= 2, for the FID)")
        q.add_argument("--euler-steps", type=_positive_int, default=32,
                       help="Euler steps per unit time of the samplers (the full path t = 1 -> 0)")
    from quantum_diffusion.demo.cmi import add_cmi_parser

    add_cmi_parser(sub)
    q = sub.add_parser("ideal", help="ideal denoisers: recovery three ways, locality vs CMI, hybrid (timed)",
                       formatter_class=fmt)
    q.set_defaults(subparser=q)
    q.add_argument("--preset", default="cpu-small", choices=["cpu-small", "paper", "smoke"],
                   help="sizes: cpu-small (2-core demo), paper (one GPU, all 60k images), smoke (tests)")
    q.add_argument("--smoke", action="store_true", help="tiny sizes (same code path; for tests and CPU checks)")
    q.add_argument("--estimate-only", action="store_true", help="print the time estimate and stop")
    q.add_argument("--out", type=Path, default=Path("results/ideal"), help="folder for the figures and JSON")
    q.add_argument("--cache-dir", type=Path, default=None, help="checkpoints, classifier and MNIST cache")
    q.add_argument("--threads", type=_positive_int, default=None, help="torch threads (default: 2, or 1 if busy)")
    return p


def _check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    """Cross-argument checks, before anything is imported or trained (``parser.error`` exits with status 2)."""
    if args.cmd == "train":
        if args.model == "global" and args.R is not None:
            parser.error("argument --R: only applies to local models (--model local)")
        if args.checkpoint is not None and args.checkpoint.is_dir():
            parser.error(f"argument --checkpoint: {args.checkpoint} is a directory, expected a file name")
        return
    if args.cmd == "cmi":  # single options are checked while parsing; the cross-option checks here
        from quantum_diffusion.demo.cmi import check_cmi_arguments

        check_cmi_arguments(args, args.subparser)
        return
    if args.cmd == "ideal":
        if args.out.exists() and not args.out.is_dir():
            parser.error(f"argument --out: {args.out} exists and is not a folder")
        return
    if args.hybrid_R not in args.radii:
        parser.error(f"argument --hybrid-R: {args.hybrid_R} must be one of --radii {' '.join(map(str, args.radii))}")
    if len(set(args.radii)) != len(args.radii):
        parser.error(f"argument --radii: duplicate radii {' '.join(map(str, args.radii))}")
    if args.window[0] >= args.window[1]:
        parser.error(f"argument --window: need T_DN < T_UP, got {args.window[0]:g} {args.window[1]:g}")
    if args.n_samples < 2:
        parser.error("argument --n-samples: the FID needs at least 2 samples")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"argument --out: {args.out} exists and is not a folder")


def _ideal(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # this command writes PNGs only
    from quantum_diffusion.demo.mnist import write_ideal_outputs

    from .ideal_pipeline import STUDY_PRESETS, estimate_seconds, run_ideal_study, study_to_json
    from .train import default_device

    preset = "smoke" if args.smoke else args.preset
    cfg = STUDY_PRESETS[preset]
    est = estimate_seconds(cfg)
    print(f"preset {preset} on {default_device()}: estimated {est['total']:.0f} s at 30 TFLOP/s "
          f"({', '.join(f'{k} {v:.0f} s' for k, v in est.items() if k != 'total')})", flush=True)
    if args.estimate_only:
        return 0
    t0 = time.perf_counter()
    study = run_ideal_study(cfg, cache_dir=args.cache_dir, progress=True)
    files = write_ideal_outputs(study, args.out)
    js = study_to_json(study)
    for k, v in study.seconds.items():
        print(f"{k:>26}: {v:8.1f} s")
    print(f"{'total':>26}: {time.perf_counter() - t0:8.1f} s")
    print(f"FID global {js['fid_global']:.2f}, hybrid (ideal local) {js['fid_hybrid_ideal']:.2f}, "
          f"hybrid (trained local) {js['fid_hybrid_trained']:.2f}; ideal <= trained recovery, held-out digits: "
          f"{study.ideal_not_worse}, training digits: {study.ideal_not_worse_train}")
    print("wrote", ", ".join(str(args.out / f) for f in files.values()))
    return 0


def _threads(n: int | None) -> None:
    import torch

    from .pipeline import configure_threads

    if n is None:
        configure_threads()
    else:
        torch.set_num_threads(n)


def _log_to_stdout() -> None:
    """Show the library's INFO lines (e.g. "resuming from step N") as plain lines on stdout."""
    log = logging.getLogger("classical")
    if not any(getattr(h, "_qd_cli", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._qd_cli = True  # type: ignore[attr-defined]
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def _train(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import torch
    import torch.distributed as dist

    from .data import default_cache_dir, load_mnist
    from .train import default_device, load_checkpoint, named_config, train

    R = (3 if args.R is None else args.R) if args.model == "local" else None
    over = {} if args.train_steps is None else {"steps": args.train_steps}
    if args.prediction == "noise":
        over.update(prediction="noise", three_term=False, t_sampling="curriculum")
    try:
        cfg = named_config(args.config, args.model, R=R, **over)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    cache = args.cache_dir or default_cache_dir()
    name = ("global" if args.model == "global" else f"local_R{R}") + ("_noise" if args.prediction == "noise" else "")
    ck = args.checkpoint or cache / "checkpoints" / args.config / f"{name}.pt"
    if ck.is_file():
        load_checkpoint(ck)  # a corrupt checkpoint is refused before the data are loaded
    world = int(os.environ.get("WORLD_SIZE", "1"))
    device = default_device()
    if world > 1:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        if device.type == "cuda":
            device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
            torch.cuda.set_device(device)
    data = load_mnist("train", cache_dir=cache).images
    t0 = time.perf_counter()
    try:
        res = train(cfg, data, ck, device=device)
    finally:
        if world > 1:
            dist.destroy_process_group()
    if not res.losses:
        print(f"{ck}: already trained ({res.step} steps)")
    else:
        print(f"{ck}: step {res.step}, last loss {res.losses[-1]:.4f}, {time.perf_counter() - t0:.1f} s")
    return 0


def _pipeline(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    import matplotlib

    matplotlib.use("Agg")  # this command writes PNGs only
    from quantum_diffusion.demo.mnist import pipeline_sections, plot_hybrid, plot_recovery
    from quantum_diffusion.demo.report import save_figure

    from .data import default_cache_dir
    from .pipeline import PipelineConfig, run_pipeline

    over = {} if args.train_steps is None else {"steps": args.train_steps}
    if args.prediction == "noise":
        over.update(prediction="noise", three_term=False, t_sampling="curriculum")
    try:
        cfg = PipelineConfig(config=args.config, radii=tuple(args.radii), hybrid_R=args.hybrid_R,
                             window=tuple(args.window), n_samples=args.n_samples, n_steps=args.euler_steps,
                             cache_dir=args.cache_dir or default_cache_dir(), train_overrides=over)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    args.out.mkdir(parents=True, exist_ok=True)
    if args.cmd == "demo":
        for s in pipeline_sections(args.out, cfg):
            print(f"{s.title}: {s.summary}")
        return 0
    from quantum_diffusion.io import atomic_write_json

    res = run_pipeline(cfg, recovery=args.cmd == "recovery", hybrid=args.cmd == "hybrid")
    if args.cmd == "recovery":
        save_figure(plot_recovery(res["recovery"]), args.out / "mnist_recovery.png")
        atomic_write_json(args.out / "mnist_recovery.json", res["recovery"])
        print("0.03 crossing (local):", res["recovery"]["crossing_local"])
    else:
        save_figure(plot_hybrid(res), args.out / "mnist_hybrid.png")
        atomic_write_json(args.out / "mnist_hybrid.json", {"hybrid": res["hybrid"], "scan": res["scan"]})
        for k, v in res["hybrid"]["panels"].items():
            print(f"{k:>26}: FID {v['fid']:.2f}  FLOPs x{v['flops_ratio']:.3f}  wall x{v['wall_ratio']:.2f}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the subcommand.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 on success, 1 when the run stops on a corrupt checkpoint, a diverging loss, a broken
        model or missing data (one line on stderr).  Bad arguments exit with status 2 through argparse.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    sub = getattr(args, "subparser", parser)  # errors are reported with the subcommand's usage line
    _check(args, sub)
    _threads(args.threads)
    _log_to_stdout()
    from .sampling import NonFiniteVelocityError
    from .train import CheckpointError, NonFiniteTrainingError

    try:
        if args.cmd == "train":
            return _train(args, sub)
        if args.cmd == "ideal":
            return _ideal(args)
        if args.cmd == "cmi":
            from quantum_diffusion.demo.cmi import run_cmi

            return run_cmi(args)
        return _pipeline(args, sub)
    except (CheckpointError, NonFiniteTrainingError, NonFiniteVelocityError, FileNotFoundError) as exc:
        print(f"{PROG} {args.cmd}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
