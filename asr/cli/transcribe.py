"""`asr transcribe`: option parsing only; the work is in asr.inference.transcribe."""

from __future__ import annotations

import click

from asr.cli.decode import RUN_HELP, SEARCH_HELP, search_inputs
from asr.cli.options import dataclass_options
from asr.inference.config import InferenceConfig
from asr.decoding import DecodeOptions
from asr.inference.transcribe import FORMATS

TRANSCRIBE_RUN_FIELDS = ("greedy", "device", "num_threads", "chunk_length_s", "chunk_context_s", "segment",
                         "endpoint_silence_s", "endpoint_idle_s", "endpoint_max_s")
TRANSCRIBE_RUN_HELP = {**RUN_HELP, "chunk_length_s": "Seconds per chunk of long audio.",
                       "chunk_context_s": "Seconds of context each side of a chunk.",
                       "segment": "Audio longer than a chunk: cut in its pauses (energy VAD) or by the clock.",
                       "endpoint_silence_s": "--stream: seconds of silence after words that end an utterance "
                                             "(0: never).",
                       "endpoint_idle_s": "--stream: seconds of silence with no word that are dropped (0: never).",
                       "endpoint_max_s": "--stream: seconds after which an utterance ends (0: no limit)."}


@click.command()
@search_inputs
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text: one line per file (`file<TAB>text`, or just the text for one file); json: JSON Lines "
                   "with word times; srt: subtitles; ctm: `name 1 start duration word`.")
@click.option("--output-dir", type=click.Path(file_okay=False), default=None,
              help="Write one file per input (<name>.txt|.json|.srt|.ctm) here instead of printing.")
@click.option("--channel", type=int, default=None,
              help="Channel (0-based) of multichannel files [default: the average of all channels].")
@click.option("--progress/--no-progress", default=True, help="Progress bars on stderr.")
@click.option("--stream", is_flag=True,
              help="Streaming recognition with a causal model (asr train --causal true): each AUDIO (`-`: stdin, "
                   "16-bit WAV or raw little-endian samples at the model's rate) is read in blocks, the partial "
                   "text printed on stderr as it changes, and each utterance (ended by a pause, --endpoint-*) "
                   "printed as it ends (text, json; srt, ctm and --output-dir: the whole stream at its end).")
@click.option("--block-ms", type=click.FloatRange(1.0, 320.0), default=320.0, show_default=True,
              help="--stream: milliseconds of audio per block.")
@dataclass_options(DecodeOptions, skip=("blank",), helps=SEARCH_HELP)
@dataclass_options(InferenceConfig, only=TRANSCRIBE_RUN_FIELDS, helps=TRANSCRIBE_RUN_HELP)
@click.argument("audio", nargs=-1, required=True, type=click.Path(dir_okay=False))
def transcribe(model_dir: str, lm_path: str | None, lang_dir: str | None, hotwords_path: str | None,
               config_path: str | None, fmt: str, output_dir: str | None, channel: int | None, progress: bool,
               stream: bool, block_ms: float, audio: tuple[str, ...], **overrides) -> None:
    """Transcribe AUDIO files (any format soundfile reads, any rate, any channels, any length).

    \b
    asr transcribe --model exp/crnn --lm data/local/lm/lm.arpa a.wav b.flac
    asr transcribe --model exp/crnn --format srt --output-dir subs/ talk.wav
    arecord -f S16_LE -r 16000 | asr transcribe --model exp/causal --stream -
    """
    from tqdm import tqdm

    from asr.inference.config import load_decode_config
    from asr.inference.search import read_hotwords
    from asr.inference.transcribe import Transcriber, format_transcript, write_transcript

    options, config = load_decode_config(config_path, overrides)
    hotwords = read_hotwords(hotwords_path) if hotwords_path else None
    if stream:
        from asr.inference.stream import StreamingTranscriber

        transcriber = StreamingTranscriber(model_dir, lm=lm_path, lang_dir=lang_dir, hotwords=hotwords,
                                           options=options, config=config)
    else:
        if "-" in audio:
            raise click.UsageError("`-` (stdin) is streamed audio: add --stream (and a causal model)")
        transcriber = Transcriber(model_dir, lm=lm_path, lang_dir=lang_dir, hotwords=hotwords, options=options,
                                  config=config, channel=channel, progress=progress)
    several = len(audio) > 1
    live = stream and output_dir is None and fmt in ("text", "json")  # each utterance printed as it ends

    def print_transcript(transcript) -> None:
        click.echo(format_transcript(transcript, fmt, several=several), nl=False)

    for path in tqdm(audio, desc="transcribing", unit="file", disable=not progress or several or stream,
                     dynamic_ncols=True):
        if stream:
            transcript = _stream(transcriber, path, block_ms, channel, on_final=print_transcript if live else None)
        else:
            transcript = transcriber(path)
        if output_dir is not None:
            write_transcript(transcript, fmt, output_dir)
        elif not live:
            print_transcript(transcript)


def _stream(transcriber, path: str, block_ms: float, channel: int | None, on_final):
    """One AUDIO through a streaming transcriber, the partial text on stderr as it changes."""
    import sys

    from asr.inference.stream import file_blocks, read_pcm_blocks, transcribe_stream

    rate = transcriber.rate
    blocks = read_pcm_blocks(sys.stdin.buffer, rate, block_ms) if path == "-" else \
        file_blocks(path, rate, block_ms, channel)
    return transcribe_stream(transcriber, blocks, path, on_final=on_final,
                             on_partial=lambda text: click.echo(f"partial: {text}", err=True))
