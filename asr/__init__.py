"""asr: speech recognition from raw audio to words in Kaldi-style stages."""

__version__ = "0.1.0"


def __getattr__(name: str):
    """`asr.transcribe(model_dir, audio, ...)`, imported on first use so that `import asr` loads no torch."""
    if name == "transcribe":
        from asr.inference.transcribe import transcribe

        return transcribe
    raise AttributeError(f"module 'asr' has no attribute {name!r}")
