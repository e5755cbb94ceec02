"""asr.kaldi_io: our arks read back equal by kaldiio, kaldiio's (and Kaldi's compressed) arks read by us,
HTK checked by an independent header parser, and truncated/garbage input -> AsrError naming file and offset."""

from __future__ import annotations

import io
import os
import struct
from pathlib import Path

import kaldiio
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.errors import AsrError
from asr.kaldi_io import (ArkWriter, read_scp_matrices, matrix_shape, read_ark, read_htk, read_kaldi_map, read_matrix,
                          read_scp, scan_kaldi_map, write_htk, write_kaldi_map)


def _matrices(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "spk1-utt1": rng.standard_normal((17, 13)).astype(np.float32),
        "spk1-utt2": rng.standard_normal((3, 40)),  # float64 -> DM
        "spk2-utt1": rng.standard_normal(9).astype(np.float32),  # vector -> FV
        "spk2-utt2": np.zeros((0, 13), np.float32),  # empty matrix
    }


def _write(tmp_path: Path, matrices: dict[str, np.ndarray]) -> tuple[Path, Path]:
    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    with ArkWriter(ark, scp) as writer:
        for key, matrix in matrices.items():
            writer.write(key, matrix)
    return ark, scp


def test_our_ark_scp_read_back_equal_by_kaldiio(tmp_path: Path) -> None:
    matrices = _matrices()
    ark, scp = _write(tmp_path, matrices)
    from_scp = kaldiio.load_scp(str(scp))
    assert list(from_scp.keys()) == list(matrices)
    for key, expected in matrices.items():
        got = from_scp[key]
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)
    for (key, got), (expected_key, expected) in zip(kaldiio.load_ark(str(ark)), matrices.items(), strict=True):
        assert key == expected_key
        np.testing.assert_array_equal(got, expected)


def test_scp_offsets_point_after_key(tmp_path: Path) -> None:
    ark, scp = _write(tmp_path, _matrices())
    raw = ark.read_bytes()
    for line in scp.read_text().splitlines():
        key, spec = line.split()
        path, offset = spec.rsplit(":", 1)
        assert path == str(ark)
        assert raw[int(offset) - len(key) - 1:int(offset)] == f"{key} ".encode()
        assert raw[int(offset):int(offset) + 2] == b"\0B"


def test_our_reader_round_trip(tmp_path: Path) -> None:
    matrices = _matrices()
    ark, scp = _write(tmp_path, matrices)
    for key, got in read_ark(ark):
        np.testing.assert_array_equal(got, matrices[key])
        assert got.dtype == matrices[key].dtype and got.flags.writeable
    for key, got in read_scp_matrices(scp):
        np.testing.assert_array_equal(got, matrices[key])
    assert matrix_shape(read_scp(scp)["spk1-utt1"]) == (17, 13)


def test_we_read_kaldiio_written_arks(tmp_path: Path) -> None:
    matrices = _matrices(1)
    ark, scp = tmp_path / "k.ark", tmp_path / "k.scp"
    kaldiio.save_ark(str(ark), matrices, scp=str(scp))
    for key, got in read_ark(ark):
        np.testing.assert_array_equal(got, matrices[key])
    for key, got in read_scp_matrices(scp):
        np.testing.assert_array_equal(got, matrices[key])


def test_we_read_kaldiio_text_arks(tmp_path: Path) -> None:
    matrices = {"a": np.arange(12, dtype=np.float32).reshape(4, 3) / 7, "b": np.arange(5, dtype=np.float32)}
    ark = tmp_path / "t.ark"
    kaldiio.save_ark(str(ark), matrices, text=True)
    got = dict(read_ark(ark))
    assert list(got) == ["a", "b"] and got["b"].shape == (5,)
    for key in matrices:
        np.testing.assert_allclose(got[key], matrices[key], rtol=1e-6)


@pytest.mark.parametrize("method", [1, 2, 3, 4, 5, 6, 7])
def test_we_read_kaldi_compressed_matrices(tmp_path: Path, method: int) -> None:
    """CM/CM2/CM3 as `compute-mfcc-feats --compress` writes them; kaldiio implements Kaldi's decompression."""
    rng = np.random.default_rng(method)
    matrix = rng.standard_normal((50, 13)).astype(np.float32) * 10
    if method in (4, 6):  # integer methods
        matrix = np.round(np.abs(matrix)).clip(0, 200)
    if method == 7:  # 0..1 method
        matrix = rng.random((50, 13)).astype(np.float32)
    ark, scp = tmp_path / "c.ark", tmp_path / "c.scp"
    kaldiio.save_ark(str(ark), {"u": matrix}, scp=str(scp), compression_method=method)
    expected = kaldiio.load_scp(str(scp))["u"]
    got = read_matrix(read_scp(scp)["u"])
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


def test_row_and_column_ranges(tmp_path: Path) -> None:
    matrix = np.arange(60, dtype=np.float32).reshape(10, 6)
    _, scp = _write(tmp_path, {"u": matrix})
    spec = read_scp(scp)["u"]
    np.testing.assert_array_equal(read_matrix(f"{spec}[2:4]"), matrix[2:5])
    np.testing.assert_array_equal(read_matrix(f"{spec}[2:4,1:2]"), matrix[2:5, 1:3])
    with pytest.raises(AsrError, match="outside"):
        read_matrix(f"{spec}[5:10]")


def test_interrupted_writer_leaves_no_files(tmp_path: Path) -> None:
    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    with pytest.raises(KeyboardInterrupt):
        with ArkWriter(ark, scp) as writer:
            writer.write("a", np.ones((2, 2), np.float32))
            raise KeyboardInterrupt
    assert sorted(os.listdir(tmp_path)) == []


def test_interrupted_rewrite_keeps_old_pair_consistent(tmp_path: Path) -> None:
    old = {"a": np.ones((4, 3), np.float32)}
    ark, scp = _write(tmp_path, old)
    with pytest.raises(RuntimeError):
        with ArkWriter(ark, scp) as writer:
            writer.write("zzz-long-key", np.zeros((9, 9), np.float32))
            raise RuntimeError("killed")
    np.testing.assert_array_equal(dict(read_scp_matrices(scp))["a"], old["a"])
    assert sorted(os.listdir(tmp_path)) == ["feats.ark", "feats.scp"]


def test_files_appear_only_on_close(tmp_path: Path) -> None:
    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    writer = ArkWriter(ark, scp)
    writer.write("a", np.ones((2, 2), np.float32))
    assert not ark.exists() and not scp.exists()
    writer.close()
    assert ark.exists() and scp.exists()


def test_bad_keys_refused(tmp_path: Path) -> None:
    with pytest.raises(AsrError, match="whitespace"):
        with ArkWriter(tmp_path / "x.ark") as writer:
            writer.write("has space", np.ones((1, 1), np.float32))


@pytest.mark.parametrize("cut", [-1, 0, 1, 5, 12, 20, 40])
def test_cut_ark_names_file_and_offset(tmp_path: Path, cut: int) -> None:
    ark, scp = _write(tmp_path, {"a": np.ones((2, 3), np.float32), "b": np.ones((4, 3), np.float32)})
    raw = ark.read_bytes()
    offset_b = int(read_scp(scp)["b"].rsplit(":", 1)[1])
    truncated = tmp_path / "cut.ark"
    truncated.write_bytes(raw[:offset_b + cut])
    with pytest.raises(AsrError) as excinfo:
        list(read_ark(truncated))
    location, message = str(excinfo.value).split(": ", 1)
    assert location.startswith(f"{truncated}:") and "truncated" in message
    if cut >= 0:  # the id was read whole: the error names the entry to fix
        assert message.endswith("(entry b)")
    with pytest.raises(AsrError) as excinfo:
        read_matrix(f"{truncated}:{offset_b}")
    assert f"{truncated}:{offset_b}" in str(excinfo.value)
    cut_scp = tmp_path / "cut.scp"
    cut_scp.write_text(f"a {truncated}:{int(read_scp(scp)['a'].rsplit(':', 1)[1])}\nb {truncated}:{offset_b}\n")
    with pytest.raises(AsrError, match=f"\\(entry b of {cut_scp}\\)$"):
        list(read_scp_matrices(cut_scp))


def test_garbage_is_asr_error(tmp_path: Path) -> None:
    garbage = tmp_path / "g.ark"
    garbage.write_bytes(np.random.default_rng(0).bytes(3000))
    with pytest.raises(AsrError) as excinfo:
        list(read_ark(garbage))
    assert str(garbage) in str(excinfo.value) and "\n" not in str(excinfo.value)
    with pytest.raises(AsrError, match=r"g\.ark:100"):
        read_matrix(f"{garbage}:100")
    with pytest.raises(AsrError, match="not found"):
        read_matrix(f"{tmp_path / 'none.ark'}:0")


def test_unknown_type_token(tmp_path: Path) -> None:
    path = tmp_path / "x.ark"
    path.write_bytes(b"k \0BXX \x04\x01\x00\x00\x00")
    with pytest.raises(AsrError, match="unknown object type|unsupported"):
        list(read_ark(path))


def _independent_htk_reader(path: Path) -> tuple[int, int, int, int, np.ndarray]:
    """HTK book 5.10.1: 12-byte big-endian header, then big-endian float32 vectors."""
    raw = path.read_bytes()
    n_samples, samp_period, samp_size, parm_kind = struct.unpack(">iihh", raw[:12])
    values = struct.unpack(f">{(len(raw) - 12) // 4}f", raw[12:])
    return n_samples, samp_period, samp_size, parm_kind, np.array(values, np.float32)


def test_htk_header_and_data_by_independent_reader(tmp_path: Path) -> None:
    feats = np.random.default_rng(0).standard_normal((25, 13)).astype(np.float32)
    path = tmp_path / "x.htk"
    write_htk(path, feats, 0.01, "MFCC_0")
    n_samples, period, samp_size, kind, values = _independent_htk_reader(path)
    assert (n_samples, period, samp_size) == (25, 100000, 13 * 4)
    assert kind == 6 | 0o20000  # MFCC with _0
    np.testing.assert_array_equal(values.reshape(25, 13), feats)
    back = read_htk(path)
    np.testing.assert_array_equal(back.feats, feats)
    assert back.frame_shift_s == pytest.approx(0.01) and back.parm_kind == kind


def test_htk_short_file_and_bad_kind(tmp_path: Path) -> None:
    path = tmp_path / "x.htk"
    write_htk(path, np.ones((5, 4), np.float32), 0.01, "FBANK")
    path.write_bytes(path.read_bytes()[:30])
    with pytest.raises(AsrError, match="truncated"):
        read_htk(path)
    with pytest.raises(AsrError, match="unknown HTK"):
        write_htk(tmp_path / "y.htk", np.ones((2, 2)), 0.01, "NOPE")


def test_map_round_trip_in_c_order(tmp_path: Path) -> None:
    mapping = {"b": "2", "B": "1", "a-1": "x y", "a_1": "z", "é": "u"}
    path = tmp_path / "map"
    write_kaldi_map(path, mapping)
    keys = [line.split()[0] for line in path.read_text().splitlines()]
    assert keys == sorted(mapping, key=lambda k: k.encode())  # C locale: byte order, uppercase first
    assert read_kaldi_map(path) == mapping


@pytest.mark.parametrize("content, kind, line", [
    (b"a 1\nb \xff\n", "encoding", 2),
    (b"\xef\xbb\xbfa 1\n", "bom", 1),
    (b"a 1\r\nb 2\r\n", "crlf", 1),
    (b"a 1\n\nb 2\n", "empty-line", 2),
    (b"a 1\nb 2\na 3\n", "duplicate", 3),
])
def test_map_problems_are_errors_naming_file_line(tmp_path: Path, content: bytes, kind: str, line: int) -> None:
    path = tmp_path / "utt2spk"
    path.write_bytes(content)
    assert kind in {problem.kind for problem in scan_kaldi_map(path).problems}
    with pytest.raises(AsrError) as excinfo:
        read_kaldi_map(path)
    assert str(excinfo.value).startswith(f"{path}:{line}: ")


def test_scp_value_required(tmp_path: Path) -> None:
    path = tmp_path / "feats.scp"
    path.write_text("a x.ark:3\nb\n")
    with pytest.raises(AsrError, match=rf"feats\.scp:2: 'b' has no value"):
        read_scp(path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200), position=st.integers(0, 120))
def test_fuzzed_arks_give_matrices_or_asr_error(tmp_path: Path, data: bytes, position: int) -> None:
    """Random bytes spliced into a valid ark: the reader yields arrays or raises AsrError, nothing else."""
    valid = tmp_path / "valid.ark"
    if not valid.exists():
        _write(tmp_path, {"a": np.ones((3, 4), np.float32), "b": np.arange(5, dtype=np.float64)})
        valid = tmp_path / "feats.ark"
    raw = valid.read_bytes()
    path = tmp_path / "fuzz.ark"
    path.write_bytes(raw[:position] + data + raw[position + len(data):])
    try:
        for key, matrix in read_ark(path):
            assert isinstance(key, str) and isinstance(matrix, np.ndarray)
    except AsrError as e:
        assert "\n" not in str(e) and str(path) in str(e)
    try:
        read_matrix(f"{path}:{position}")
    except AsrError:
        pass


def test_huge_claimed_size_is_truncation_not_allocation(tmp_path: Path) -> None:
    path = tmp_path / "big.ark"
    path.write_bytes(b"k \0BFM \x04" + struct.pack("<i", 2**31 - 1) + b"\x04" + struct.pack("<i", 2**31 - 1))
    with pytest.raises(AsrError, match="truncated"):
        list(read_ark(path))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=300))
def test_fuzzed_maps_give_entries_or_asr_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "map"
    path.write_bytes(content)
    scan = scan_kaldi_map(path, is_text=True)
    assert all(" " not in key and key for key in scan.entries)
    try:
        read_kaldi_map(path)
    except AsrError as e:
        assert str(e).startswith(f"{path}:") and "\n" not in str(e)


def test_compressed_matrices_match_kaldis_format(tmp_path: Path) -> None:
    """compress_matrix follows Kaldi's compressed-matrix.cc; kaldiio (its own approximation of the same
    arithmetic) writes the same headers and the same bytes up to rare off-by-one roundings at a midpoint."""
    from asr.kaldi_io import compress_matrix

    rng = np.random.default_rng(3)
    matrices = {f"u{i:02d}": (rng.normal(size=(int(rows), 23)) * 5 - 2).astype(np.float32)
                for i, rows in enumerate(rng.integers(1, 300, size=40))}
    matrices["const"] = np.full((20, 4), 7.5, np.float32)
    differing = total = 0
    for key, matrix in matrices.items():
        ours = np.frombuffer(compress_matrix(matrix), np.uint8)
        buffer = io.BytesIO()
        kaldiio.save_ark(buffer, {"k": matrix}, compression_method=1)  # kAutomaticMethod
        theirs = np.frombuffer(buffer.getvalue()[len(b"k \0B"):], np.uint8)
        token = b"CM " if len(matrix) > 8 else b"CM2 "  # 8 bits a value with per-column percentiles, or 16
        assert ours[:len(token) + 16].tobytes() == theirs[:len(token) + 16].tobytes() == \
            token + ours[len(token):len(token) + 16].tobytes(), key  # token + global header
        assert len(ours) == len(theirs) and np.abs(ours.astype(int) - theirs).max() <= 1, key
        differing, total = differing + int((ours != theirs).sum()), total + len(ours)
    assert differing < 0.001 * total

    with ArkWriter(tmp_path / "c.ark", tmp_path / "c.scp", compress=True) as writer:
        for key, matrix in matrices.items():
            writer.write(key, matrix)
        writer.write("vector", np.arange(3, dtype=np.float32))  # vectors stay uncompressed, as in Kaldi
    ours_read, kaldiio_read = dict(read_scp_matrices(tmp_path / "c.scp")), dict(kaldiio.load_scp(str(tmp_path / "c.scp")))
    for key, matrix in matrices.items():
        np.testing.assert_allclose(ours_read[key], kaldiio_read[key], atol=1e-4)
        assert np.abs(ours_read[key] - matrix).max() <= (matrix.max() - matrix.min()) / 63 + 1e-4
    np.testing.assert_array_equal(ours_read["vector"], [0, 1, 2])
    with pytest.raises(AsrError, match="'bad'.*nan"):
        with ArkWriter(tmp_path / "d.ark", compress=True) as writer:
            writer.write("bad", np.array([[np.nan, 1.0]] * 10, np.float32))
    assert not (tmp_path / "d.ark").exists()
