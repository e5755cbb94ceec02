"""Kaldi's interchange formats, our own code, one module per format: text maps (`maps`: scp and friends), binary
ark matrices (`ark`, with Kaldi's compressed matrices in `compressed`), HTK files (`htk`).

A binary ark entry is `key ` followed by the binary marker `\\0B`, a type token (`FM ` float32 matrix, `DM `
float64 matrix, `FV `/`DV ` vectors, `CM `/`CM2`/`CM3` Kaldi's compressed matrices) and `\\x04`-prefixed int32
sizes, all little-endian. An scp line `key file.ark:OFFSET` points at the `\\0B` right after `key `, so Kaldi,
kaldiio and lhotse read our files and we read theirs (compressed feats from `compute-mfcc-feats --compress`
included). Matrix specs may carry Kaldi's row/column ranges: `file.ark:123[0:99]` or `[0:99,0:12]`.

An `ArkWriter` writes the ark and its scp to temporary names and renames them only when closed without error,
so an interrupted run never leaves an scp pointing into a truncated ark. With `compress=True` it writes matrices
as `copy-feats --compress=true` does (`compress_matrix`): a quarter of the bytes, for features that are
fine at 8 bits a value.
"""

from asr.kaldi_io.ark import (ArkWriter, archive_of, ark_entry, matrix_shape, read_ark, read_matrix,
                             read_scp_matrices)
from asr.kaldi_io.compressed import compress_matrix
from asr.kaldi_io.htk import HtkFile, htk_parm_kind, read_htk, write_htk
from asr.kaldi_io.maps import (FATAL_MAP_PROBLEMS, MapProblem, MapScan, c_sorted, read_kaldi_map, read_scp,
                               scan_kaldi_map, write_kaldi_map)

__all__ = ["ArkWriter", "FATAL_MAP_PROBLEMS", "HtkFile", "MapProblem", "MapScan", "archive_of", "ark_entry", "c_sorted",
           "compress_matrix", "htk_parm_kind", "read_scp_matrices", "matrix_shape", "read_ark", "read_htk", "read_kaldi_map", "read_matrix",
           "read_scp", "scan_kaldi_map", "write_htk", "write_kaldi_map"]
