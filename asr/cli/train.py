"""`asr train` and `asr average`: option parsing only; the work is in asr.training.

Every TrainConfig field is also a flag (`hidden_size` -> `--hidden-size`), overriding the --config file.
"""

from __future__ import annotations

from pathlib import Path

import click

from asr.cli.options import dataclass_options
from asr.training.config import TrainConfig


@click.command(context_settings={"show_default": True})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              help="YAML (or Kaldi-style --name=value) file of TrainConfig options; flags override it.")
@click.option("--train", "train_dir", required=True, type=click.Path(file_okay=False), help="Training data dir.")
@click.option("--valid", "valid_dir", type=click.Path(file_okay=False), default=None,
              help="Validation data dir (loss and greedy CER/WER each epoch).")
@click.option("--lang", "lang_dir", required=True, type=click.Path(file_okay=False),
              help="Units directory from `asr units` (tokens.txt ...).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Model directory to write.")
@click.option("--resume", is_flag=True, help="Continue from the latest checkpoint in --out (bit-exact on CPU).")
@click.option("--seed", default=None, type=int, help="Seed of init, batch order, SpecAugment (default 0).")
@click.option("--device", default=None, type=click.Choice(["auto", "cpu", "cuda"]), help="Default auto.")
@click.option("--num-threads", default=None, type=int,
              help="torch intra-op threads (default 1; more threads on a busy machine can be much slower).")
@click.option("--progress/--no-progress", default=True, help="Progress bar on stderr.")
@dataclass_options(TrainConfig, skip=("seed", "device", "num_threads"), bool_flags=False)  # own help below
def train(config_path: str | None, train_dir: str, valid_dir: str | None, lang_dir: str, out_dir: str,
          resume: bool, progress: bool, **overrides) -> None:
    """Train a CTC acoustic model (rnn or crnn) into a self-describing model directory.

    \b
    asr train --config conf/train.yaml --train data/train --valid data/dev --lang data/lang_char --out exp/crnn
    Distributed (DDP; gloo on CPU, nccl on GPU), one machine:
      torchrun --nproc-per-node 2 -m asr train ...
    Several machines (run on each; HOST reachable from all):
      torchrun --nnodes 2 --nproc-per-node 4 --rdzv-backend c10d --rdzv-endpoint HOST:29400 --rdzv-id JOB \\
          -m asr train ...
    """
    from asr.config import build_config
    from asr.training.trainer import run_training

    config = build_config(TrainConfig, config_path, overrides)
    run_training(config, Path(train_dir), Path(valid_dir) if valid_dir else None, Path(lang_dir), Path(out_dir),
                 resume=resume, progress=progress)


@click.command()
@click.argument("model_dir", type=click.Path(file_okay=False, exists=True))
@click.option("--last", type=int, default=None, help="Average the last N epoch checkpoints.")
@click.option("--best", type=int, default=None, help="Average the N epoch checkpoints with the lowest valid loss.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Where to write the averaged weights (default MODEL_DIR/model.pt, which decoding uses).")
def average(model_dir: str, last: int | None, best: int | None, output: str | None) -> None:
    """Average epoch checkpoints' weights into model.pt."""
    from asr.training.average import average_checkpoints

    path = average_checkpoints(model_dir, last=last, best=best, output=output)
    click.echo(f"wrote {path}")
