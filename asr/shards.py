"""Feature shards: a data directory's features as WebDataset tar shards that feats.scp points into.

`asr data shard SRC DST` writes DST/shards/shard-000000.tar, ... of `utts_per_shard` utterances each (in the order
of SRC's sorted utterance ids) and a data directory DST whose feats.scp reads the features out of those tars. Each
utterance is one WebDataset sample, members named by its position in the corpus (utterance ids may hold dots, which
WebDataset takes for the start of an extension):

    000000123.ark   a one-utterance Kaldi ark ("<utt-id> " + binary float matrix): kaldiio, copy-feats and
                    webdataset (with kaldiio to decode) read it
    000000123.txt   its transcript (when SRC has text)
    000000123.spk   its speaker

feats.scp points at the matrix inside the tar (`DST/shards/shard-000001.tar:OFFSET`), so everything that reads a
feats.scp (training, `asr decode`, Kaldi) reads shards with no new reader, and a streamed training reads them
shard by shard: ranks and shuffling go by the file an utterance's features live in (`feature_files`; see
`asr.batching.make_shard_batches`). Shards are files of a few hundred MB, copied, listed and checksummed as
units, which is what cluster storage wants; `check_feature_files` finds a missing or truncated one before any
training starts.
"""

from __future__ import annotations

import io
import logging
import os
import shutil
import tarfile
from pathlib import Path

import numpy as np

from asr.datadir import DIRECTORY_FILES, DataDir, restrict_data_dir, read_data_dir, write_data_dir
from asr.errors import AsrError
from asr.kaldi_io import archive_of, ark_entry, read_matrix
from asr.parallel import LOCAL, contiguous_jobs, item_done, run_jobs

logger = logging.getLogger(__name__)

UTTS_PER_SHARD = 1000    # utterances per shard: ~100-300 MB of float32 80-dim fbank for 3-10 s utterances
SHARD_DIR = "shards"
SHARD_SUFFIX = ".tar"   # what makes a feature file a shard to training (batches dealt out by shard)
SHARD_NAME = "shard-{:06d}" + SHARD_SUFFIX


def shard_data_dir(src: str | os.PathLike, dst: str | os.PathLike, *, utts_per_shard: int = UTTS_PER_SHARD,
                   compress: bool = False, nj: int = 1, cmd: str = LOCAL, progress: bool = True) -> DataDir:
    """Write SRC's features (its feats.scp) as tar shards under DST/shards/ and DST as SRC's data directory whose
    feats.scp and utt2num_frames point into them; `compress`: as Kaldi compressed matrices (a quarter of the
    disk; float32 otherwise, whatever SRC's were); `nj` jobs of whole shards run where `cmd` says (local, or
    dask:ADDRESS). DST appears only once complete: a failure leaves an existing DST as it was."""
    from tqdm import tqdm

    data = read_data_dir(src)
    if not data.feats_scp:
        raise AsrError(f"{Path(src) / 'feats.scp'}: missing; compute the features first (asr features fbank {src})")
    if utts_per_shard < 1:
        raise AsrError(f"utts_per_shard={utts_per_shard}: give at least 1")
    dst = Path(dst)
    if dst.resolve() == Path(src).resolve():
        raise AsrError(f"{dst}: the output must be a new directory, not the source")
    utts = sorted(data.feats_scp)
    shards = [(index, utts[start:start + utts_per_shard])
              for index, start in enumerate(range(0, len(utts), utts_per_shard))]
    tmp = dst.with_name(f".{dst.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / SHARD_DIR).mkdir(parents=True)
    bar = tqdm(total=len(shards), desc=f"shard {src}", unit="shard", disable=not progress, leave=False)
    try:
        rows = run_jobs(_shard_job, contiguous_jobs(shards, nj), bar, cmd, data, utts_per_shard, compress,
                        (tmp / SHARD_DIR).absolute(), (dst / SHARD_DIR).resolve())
        new = restrict_data_dir(data, utts, dst)
        new.feats_scp = {utt: spec for job in rows for utt, spec, _ in job}
        new.utt2num_frames = {utt: frames for job in rows for utt, _, frames in job}
        write_data_dir(tmp, new)
        for name in DIRECTORY_FILES:  # feats.conf, frame_shift: how the features were made
            if (Path(src) / name).is_file():
                shutil.copyfile(Path(src) / name, tmp / name)
        shutil.rmtree(dst, ignore_errors=True)
        tmp.rename(dst)
    finally:
        bar.close()
        shutil.rmtree(tmp, ignore_errors=True)
    logger.info("wrote %d shards of up to %d utterances under %s, and %s pointing into them", len(shards),
                utts_per_shard, dst / SHARD_DIR, dst / "feats.scp")
    return new


def _shard_job(shards: list[tuple[int, list[str]]], data: DataDir, utts_per_shard: int, compress: bool,
               out_dir: Path, final_dir: Path) -> list[tuple[str, str, int]]:
    """Write `shards` (index, utterances) into out_dir; the (utt, feats.scp spec under final_dir, frames) rows."""
    rows = []
    for index, utts in shards:
        name = SHARD_NAME.format(index)
        with tarfile.open(out_dir / name, "w", format=tarfile.USTAR_FORMAT) as tar:
            for position, utt in enumerate(utts, start=index * utts_per_shard):
                matrix = np.asarray(read_matrix(data.feats_scp[utt]), dtype=np.float32)
                data_offset = _add(tar, f"{position:09d}.ark", ark_entry(utt, matrix, compress=compress))
                rows.append((utt, f"{final_dir / name}:{data_offset + len(utt.encode()) + 1}", len(matrix)))
                if utt in data.text:
                    _add(tar, f"{position:09d}.txt", data.text[utt].encode())
                if utt in data.utt2spk:
                    _add(tar, f"{position:09d}.spk", data.utt2spk[utt].encode())
        item_done()
    return rows


def _add(tar: tarfile.TarFile, name: str, payload: bytes) -> int:
    """Append a member; the byte offset of its data in the tar (after its header; the data is padded to blocks)."""
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(payload), 0o644
    tar.addfile(info, io.BytesIO(payload))
    return tar.offset - -(-len(payload) // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def feature_files(feats_scp: dict[str, str], keys: list[str]) -> tuple[list[str], list[int]]:
    """The files (arks or shards) `keys`' features live in, and for each key the index of its file."""
    files: dict[str, int] = {}
    index = [files.setdefault(archive_of(feats_scp[key])[0], len(files)) for key in keys]
    return list(files), index


def check_feature_files(name: str, feats_scp: dict[str, str]) -> None:
    """Every ark or shard feats.scp points into exists and reaches its last offset: a missing or truncated shard
    is found before training starts, with the fix."""
    reach: dict[str, int] = {}
    for spec in feats_scp.values():
        path, offset = archive_of(spec)
        reach[path] = max(reach.get(path, 0), offset)
    for path, offset in reach.items():
        if not os.path.isfile(path):
            raise AsrError(f"{name}/feats.scp: {path} is missing; copy it back or rewrite the shards (asr data shard)")
        if os.path.getsize(path) <= offset:
            raise AsrError(f"{name}/feats.scp: {path} ends at byte {os.path.getsize(path)}, before the features at "
                           f"{offset}; the file is truncated: copy it again or rewrite the shards (asr data shard)")
