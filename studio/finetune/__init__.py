"""Fine-tuning a Base checkpoint into a CustomVoice checkpoint that speaks with one new voice.

- :mod:`.layout`: the training sequence, laid out exactly as inference lays it out, and the losses.
- :mod:`.train`: the loop (LoRA or full, fp32 master weights, warm-up, clipping, accumulation, resume).
- :mod:`.export`: the trained voice as a CustomVoice checkpoint that qwen-tts loads.
- :mod:`.data`: clips and transcripts from a folder, checked, their codes extracted and cached.
- :mod:`.job`: the whole job with a memory check, progress, cancel and resume.
- :mod:`.evaluate`: per-epoch speaking rate, speaker similarity, CER, the A/B pair; the epoch to export.
- :mod:`.review`: the review step (checked clips listed, transcripts edited, clips dropped) before training.
- :mod:`.jobs`: training in the background for the HTTP API and the UI (start, status, cancel, resume).
- :mod:`.library`: the trained voice in the voice library, speaking with its own checkpoint.
"""
