"""asr: speech recognition from raw audio to words in Kaldi-style stages."""

__version__ = "0.1.0"
