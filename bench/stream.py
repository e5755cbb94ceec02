"""Streaming recognition: what a causal model costs in WER against a bidirectional one trained the same way, and
how late its words come when the audio arrives in real time.

    python bench/stream.py --causal exp/causal --bidirectional exp/bi --data data/loso/theo/test \
        --lm data/loso/theo/local/lm/lm.arpa --decode-config recipes/fsdd/conf/decode.yaml    # FSDD, issue 14

Offline: `asr decode` of the data dir with each model, the same search options. Streaming: each utterance fed to the
causal model (`asr transcribe --stream`'s StreamingTranscriber) in blocks of --block-ms, as a microphone delivers
them: block k is there at (k + 1) x block (the last when the audio ends) and is processed once it is there and the
previous block is done. A word's latency is the moment it first shows in the partial text minus the end of its
audio (its end time in the final result); the final latency is the moment the final result is ready minus the end
of the audio. Both count from the end of the audio, so the wait for a block to fill adds up to one block on top.
The streamed text is checked against the causal model's offline text.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from asr.datadir import load_utterance_audio, read_data_dir
from asr.inference.config import load_decode_config
from asr.inference.decode import decode_data_dir
from asr.inference.stream import StreamingTranscriber
from asr.scoring import score_texts


def stream_utterance(transcriber: StreamingTranscriber, wave: np.ndarray, rate: int, block_ms: float
                     ) -> tuple[str, list[float], float, float]:
    """(final text, latency of each word, final latency, processing seconds), times in seconds."""
    step = max(1, int(rate * block_ms / 1000))
    duration = len(wave) / rate
    stream = transcriber.start()
    done, busy, partials = 0.0, 0.0, []
    for start in range(0, len(wave), step):
        arrival = min(start + step, len(wave)) / rate
        tick = time.perf_counter()
        text = stream.accept_waveform(wave[start:start + step])
        spent = time.perf_counter() - tick
        done, busy = max(arrival, done) + spent, busy + spent
        partials.append((done, text.split()))
    tick = time.perf_counter()
    result = stream.finish()
    spent = time.perf_counter() - tick
    final, busy = max(duration, done) + spent, busy + spent
    latencies = []
    for i, word in enumerate(result.words):
        shown = next((at for at, words in partials if len(words) > i and words[i] == word.word), final)
        latencies.append(shown - word.end)
    return result.text, latencies, final - duration, busy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--causal", required=True, help="a model directory trained with --causal true")
    parser.add_argument("--bidirectional", required=True, help="the same configuration without --causal")
    parser.add_argument("--data", type=Path, required=True, help="data dir with wav.scp and text")
    parser.add_argument("--lm", default=None)
    parser.add_argument("--decode-config", default=None)
    parser.add_argument("--block-ms", type=float, default=320.0)
    args = parser.parse_args()

    options, config = load_decode_config(args.decode_config, {"device": "cpu", "nj": 1})
    data = read_data_dir(args.data)
    print(f"{args.data}: {len(data.text)} utterances; search {options}; blocks of {args.block_ms:g} ms\n")
    print("| model | offline WER % | streamed WER % | word latency median / p90 ms | final latency median / p90 ms "
          "| RTF |")
    print("|---|---|---|---|---|---|")
    offline = {}
    for name, model in (("bidirectional", args.bidirectional), ("causal", args.causal)):
        result = decode_data_dir(model, args.data, Path(model) / f"decode_{args.data.name}_bench", lm=args.lm,
                                 options=options, config=config, progress=False)
        offline[name] = result
        if name == "bidirectional":
            print(f"| {model} (bidirectional) | {result.report.error_rate:.2f} | - | - | - | - |")
    transcriber = StreamingTranscriber(args.causal, lm=args.lm, options=options, config=config)
    texts, word_latency, final_latency, busy, seconds = {}, [], [], 0.0, 0.0
    for key in sorted(data.text):
        wave, rate = load_utterance_audio(data, key)
        texts[key], latencies, final, spent = stream_utterance(transcriber, wave, rate, args.block_ms)
        word_latency += latencies
        final_latency.append(final)
        busy, seconds = busy + spent, seconds + len(wave) / rate
    streamed = score_texts(data.text, texts)
    same = sum(texts[k] == offline["causal"].hypotheses[k][0].text for k in texts)
    ms = [1000 * np.percentile(x, q) for x in (word_latency, final_latency) for q in (50, 90)]
    print(f"| {args.causal} (causal) | {offline['causal'].report.error_rate:.2f} | {streamed.error_rate:.2f} | "
          f"{ms[0]:.0f} / {ms[1]:.0f} | {ms[2]:.0f} / {ms[3]:.0f} | {busy / seconds:.3f} |")
    print(f"\nstreamed text equal to the causal model's offline text: {same} of {len(texts)} utterances")


if __name__ == "__main__":
    main()
