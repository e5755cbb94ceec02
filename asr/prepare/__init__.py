"""Corpus importers: each turns one corpus layout into a Kaldi data directory (`asr prepare FORMAT SOURCE DIR`).

Formats: `folder` (audio + sidecar .txt/.lab), `manifest` (CSV/TSV path,text[,speaker]), `fsdd`,
`speechocean762`, `librispeech`, `an4`. All share `asr.prepare.common`: ids prefixed by the speaker, absolute
wav.scp paths, utt2dur from audio headers, C-locale order, atomic files, optional normalization, bad input
as an error naming file and line (or skipped and reported with `skip_bad`).
"""

from asr.prepare.an4 import prepare_an4
from asr.prepare.common import PrepareOptions
from asr.prepare.folder import prepare_folder
from asr.prepare.fsdd import prepare_fsdd
from asr.prepare.librispeech import prepare_librispeech
from asr.prepare.manifest import prepare_manifest
from asr.prepare.speechocean import prepare_speechocean

__all__ = ["PrepareOptions", "prepare_an4", "prepare_folder", "prepare_fsdd", "prepare_librispeech",
           "prepare_manifest", "prepare_speechocean"]
