"""A CSV or TSV manifest: a header row naming the columns `path` and `text`, optionally `speaker` and `id`.

Paths are relative to the manifest's folder (or absolute). `.tsv`/`.tab` files are tab-separated, anything else
comma-separated, with CSV quoting, so a transcript may contain the delimiter inside quotes. CRLF line ends are
accepted here: they are the CSV standard (RFC 4180) and what spreadsheet programs write. Without a `speaker`
column each utterance is its own speaker; without an `id` column the id is the path without its extension,
folders joined with '-'.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path, PurePath

from asr.datadir import DataDir
from asr.errors import AsrError, where
from asr.prepare.common import BadInput, PrepareOptions, Utterance, make_id, with_speaker_prefix, write_prepared

REQUIRED_COLUMNS = ("path", "text")
OPTIONAL_COLUMNS = ("speaker", "id")


def collect_manifest(manifest: Path, bad: BadInput) -> list[Utterance]:
    """The utterances listed in a CSV/TSV manifest."""
    try:
        data = manifest.read_bytes()
    except OSError as e:
        raise AsrError(f"{manifest}: cannot read ({e.strerror}); check the path") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise AsrError(f"{where(manifest, line)}: not valid UTF-8 (byte {data[e.start]:#04x}); convert the "
                       f"manifest to UTF-8, e.g. iconv -f LATIN1 -t UTF-8") from None
    delimiter = "\t" if manifest.suffix.lower() in (".tsv", ".tab") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise AsrError(f"{where(manifest, 1)}: the header row lacks column(s) {', '.join(missing)}; the first "
                       f"row must name the columns, e.g. 'path{delimiter}text{delimiter}speaker'")
    column = {name: header.index(name) for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if name in header}
    utterances = []
    for row in reader:
        origin = where(manifest, reader.line_num)
        if not any(field.strip() for field in row):
            continue
        if len(row) != len(header):
            bad(f"{origin}: {len(row)} fields where the header has {len(header)}; quote fields that contain "
                f"{'a tab' if delimiter == chr(9) else 'a comma'}")
            continue
        values = {name: row[index].strip() for name, index in column.items()}
        if not values["path"]:
            bad(f"{origin}: empty path; give the audio file")
            continue
        audio = Path(values["path"])
        audio = audio if audio.is_absolute() else manifest.parent / audio
        name = make_id(values.get("id") or _name_from_path(values["path"]))
        speaker = make_id(values.get("speaker") or "") or name
        utterances.append(Utterance(with_speaker_prefix(speaker, name), speaker, audio, values["text"], origin))
    return utterances


def _name_from_path(path: str) -> str:
    """`clips/a/b.wav` -> `clips-a-b`; leading `/`, `.` and `..` parts dropped."""
    parts = [p for p in PurePath(path.replace("\\", "/")).with_suffix("").parts if p not in ("/", ".", "..")]
    return "-".join(parts)


def prepare_manifest(manifest: str | Path, data_dir: str | Path, options: PrepareOptions | None = None) -> DataDir:
    """Write a data directory for the utterances of a CSV/TSV manifest."""
    options = options or PrepareOptions()
    bad = BadInput(options.skip_bad)
    utterances = collect_manifest(Path(manifest), bad)
    return write_prepared(data_dir, utterances, options, bad, source=f"manifest {manifest}")
