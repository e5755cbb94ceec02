"""Inference: a trained model directory applied to audio, as `asr decode` and `asr transcribe` do.

Read in this order, each module crossed once on the way from a wav to words:
  config      InferenceConfig (device, batching, chunking) and conf/decode.yaml loading
  network     a loaded model directory's (asr.modeldir.load_model_dir) network: torch, ONNX or TorchScript
  search      the CTC search (asr.decoding) set up once per run: units, LM, lexicon, hotwords
  decode      a Kaldi data directory -> exp/NAME/decode_<set>/ (text, ctm, n-best, scores)
  vad         where the speech of a long recording is (energy VAD): transcribe's cuts, `asr data segment`
  transcribe  audio files of any length -> Transcripts with word times (`asr.transcribe(...)`)

Nothing here imports `asr.training`: a model directory is all inference needs.
"""
