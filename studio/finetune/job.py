"""The fine-tuning job: data -> checks -> codes -> training -> CustomVoice checkpoint, with progress, cancel, resume.

``run_finetune`` is what the CLI (and any other adapter) calls. Before the model
is loaded it estimates the memory the run needs and the disk it writes, and
refuses with both numbers when the device or the disk cannot hold them. The
run's state lives in ``OUT/training/`` (codes cache, ``resume.pt``, one
``epoch-NNN.pt`` per epoch), so calling it again with the same arguments
resumes where a cancelled or crashed run stopped; the finished checkpoint is
``OUT`` itself, with ``OUT/training/report.json`` describing the run.
"""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import InputError, ModelMismatchError, ResourceError
from ..progress import CancelToken, ProgressFn, no_progress
from .data import MIN_CLIPS, Dataset, extract_codes, load_dataset
from .evaluate import best_epoch, evaluate, sentences_for, zero_shot
from .export import export_custom_voice, speaker_key
from .library import REFERENCE_TXT, REFERENCE_WAV, add_trained_voice, check_name_free, require_consent
from .train import LORA_TARGETS, Trainer, TrainOptions, trainable_state

GB = 1024**3
#: Bytes of activations kept for the backward pass, per token, per layer, per unit of width (measured
#: rule of thumb for a Qwen3 decoder layer: norms, q/k/v/o, MLP in and out).
ACTIVATION_FACTOR = 34
FRAMES_PER_SECOND = 12.5
TEXT_TOKENS_PER_SECOND = 8  # generous: ~4 CJK characters or ~3 English words a second


@dataclass
class FinetuneRequest:
    """One fine-tuning job."""

    data_dir: str
    name: str  #: the new speaker's name (stored lower-case)
    base: str  #: 0.6b-base, 1.7b-base or a Base checkpoint folder
    out: str  #: the CustomVoice checkpoint folder to write
    options: TrainOptions = field(default_factory=TrainOptions)
    reference: str | None = None  #: the clip whose speaker embedding becomes the voice
    device: str = "auto"
    min_clips: int = MIN_CLIPS
    eval_sentences: int = 3  #: held-out sentences spoken after each epoch (0 = no evaluation: export the last)
    consent: bool = False  #: the voice is the user's own, or its owner agreed (as for saving a cloned voice)
    consent_by: str = ""
    add_to_library: bool = True  #: put the result into the voice library as a voice named ``name``


@dataclass
class Estimate:
    """What a run needs, in bytes."""

    memory: int
    disk: int
    parameters: int
    trainable: int


@dataclass
class FinetuneResult:
    """A finished job."""

    out: Path
    speaker: str
    report: dict


def _shapes(base: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    shapes = {}
    for file in sorted(base.glob("model*.safetensors")):
        with safe_open(str(file), "pt") as f:
            for key in f.keys():  # noqa: SIM118 (safe_open is not iterable)
                shapes[key] = tuple(f.get_slice(key).get_shape())
    return shapes


def estimate(base: Path, options: TrainOptions, longest_s: float, on_gpu_bf16: bool) -> Estimate:
    """Memory and disk a run needs, from the checkpoint's shapes and the longest clip."""
    config = json.loads((base / "config.json").read_text(encoding="utf-8"))
    talker = config["talker_config"]
    predictor = talker["code_predictor_config"]
    shapes = _shapes(base)
    numel = {k: _prod(s) for k, s in shapes.items()}
    total = sum(numel.values())
    talker_params = sum(n for k, n in numel.items() if k.startswith("talker.") and ".text_embedding." not in k)
    if options.lora_rank:
        trainable = sum(
            options.lora_rank * (s[0] + s[1])
            for k, s in shapes.items()
            if k.startswith("talker.") and k.endswith(tuple(f"{t}.weight" for t in LORA_TARGETS))
        )
    else:
        trainable = talker_params
    act_bytes = 2 if on_gpu_bf16 else 4
    tokens = int(longest_s * (FRAMES_PER_SECOND + TEXT_TOKENS_PER_SECOND)) + 16
    frames = int(longest_s * FRAMES_PER_SECOND)
    b = options.batch_size
    activations = b * tokens * talker["num_hidden_layers"] * talker["hidden_size"] * ACTIVATION_FACTOR * act_bytes // 4
    activations += b * talker["num_attention_heads"] * tokens * tokens * 4 * talker["num_hidden_layers"]
    activations += b * tokens * talker["vocab_size"] * 4 * 3  # logits, their softmax, their gradient
    activations += (
        b * frames * 16 * predictor["num_hidden_layers"] * predictor["hidden_size"] * ACTIVATION_FACTOR * act_bytes // 4
    )
    activations += b * frames * 15 * predictor["vocab_size"] * 4 * 3
    tokenizer = sum(f.stat().st_size for f in (base / "speech_tokenizer").glob("*.safetensors"))
    memory = int((total * 4 + trainable * 12 + activations + tokenizer) * 1.2) + (GB // 2 if on_gpu_bf16 else 0)
    weights_on_disk = sum(f.stat().st_size for f in base.glob("model*.safetensors"))
    disk = weights_on_disk + tokenizer + trainable * 4 * (3 + options.epochs) + 64 * 1024**2
    return Estimate(memory=memory, disk=disk, parameters=total, trainable=trainable)


def _prod(shape) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def available_memory(device: str) -> int:
    """Free bytes on ``device`` (GPU memory for CUDA, else free RAM)."""
    if device.startswith("cuda"):
        import torch

        free, _ = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    import psutil

    return int(psutil.virtual_memory().available)


def check_resources(need: Estimate, device: str, out: Path, free_memory: int | None = None) -> None:
    """Refuse, with the numbers, a run the device memory or the disk cannot hold."""
    free_memory = available_memory(device) if free_memory is None else free_memory
    if need.memory > free_memory:
        raise ResourceError(
            zh=f"训练大约需要 {need.memory / GB:.1f} GB 内存/显存，{device} 上只有 {free_memory / GB:.1f} GB 可用。"
            "请改用 LoRA（--lora 16）、减小 --batch-size，或换一块更大的显卡。",
            en=f"Training needs about {need.memory / GB:.1f} GB of memory, {device} has {free_memory / GB:.1f} GB free. "
            "Use LoRA (--lora 16), a smaller --batch-size, or a bigger GPU.",
        )
    probe = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    free_disk = shutil.disk_usage(probe).free
    if need.disk > free_disk:
        raise ResourceError(
            zh=f"训练需要约 {need.disk / GB:.2f} GB 磁盘空间，{probe} 所在的磁盘只剩 {free_disk / GB:.2f} GB。请清理空间或换一个输出文件夹。",
            en=f"Training needs about {need.disk / GB:.2f} GB of disk, the disk of {probe} has {free_disk / GB:.2f} GB "
            "free. Free some space or choose another output folder.",
        )


def _resolve_base(base: str, progress: ProgressFn, cancel: CancelToken | None):
    from ..models import ModelManager
    from ..settings import Settings

    info = ModelManager(Settings.load()).resolve(base, progress, cancel)
    if info.kind != "base":
        raise ModelMismatchError(
            zh=f"微调要从 Base 模型开始（0.6b-base、1.7b-base 或 Base 模型文件夹），{info.path.name} 是 {info.kind}。",
            en=f"Fine-tuning starts from a Base model (0.6b-base, 1.7b-base or a Base folder); {info.path.name} is "
            f"{info.kind}.",
        )
    return info


def _check_out(out: Path) -> None:
    if out.is_file():
        raise InputError(
            zh=f"输出位置 {out} 是一个文件，请给一个文件夹。", en=f"The output {out} is a file; give a folder."
        )
    if out.is_dir() and any(out.iterdir()) and not (out / "training").is_dir():
        raise InputError(
            zh=f"输出文件夹 {out} 已有别的内容；请给一个新的（或空的）文件夹。",
            en=f"The output folder {out} already holds other files; give a new (or empty) folder.",
        )


def _placement(device: str):
    from ..device import choose_placement, probe

    placement = choose_placement(probe(), device, "float32")
    caps = probe()
    return placement.device, placement.device.startswith("cuda") and caps.cuda_bf16


def run_finetune(
    request: FinetuneRequest,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    transcribe=None,
    library=None,
) -> FinetuneResult:
    """Run (or resume) the whole job; return the checkpoint folder. Raises :class:`Cancelled` when cancelled.

    ``library`` is the voice library the result joins (default: the studio's own).
    """
    started = time.monotonic()
    require_consent(request.consent)
    key = speaker_key(request.name)
    out = Path(request.out).expanduser().resolve()
    _check_out(out)
    if request.add_to_library:
        if library is None:
            from ..voices import VoiceLibrary

            library = VoiceLibrary()
        check_name_free(library, request.name, out)
    info = _resolve_base(request.base, progress, cancel)
    device, bf16 = _placement(request.device)
    progress(None, "checking clips")
    data = load_dataset(request.data_dir, transcribe, request.reference, request.min_clips)
    need = estimate(info.path, request.options, max(c.seconds for c in data.clips), bf16)
    check_resources(need, device, out)
    if cancel is not None:
        cancel.check()

    import torch

    from ..backend import qwen_tts
    from .layout import Sample, assistant_text, language_id

    progress(None, f"loading {info.path.name}")
    tts = qwen_tts().Qwen3TTSModel.from_pretrained(str(info.path), dtype=torch.float32, device_map=device)
    run_dir = out / "training"
    fingerprint = hashlib.sha256((info.path / "speech_tokenizer" / "config.json").read_bytes()).hexdigest()[:12]
    codes = extract_codes(tts.model.speech_tokenizer, data.clips, run_dir / f"codes-{fingerprint}.pt", progress)
    _keep_reference(run_dir, data)
    with torch.no_grad():
        speaker = tts.model.extract_speaker_embedding(data.reference.audio.samples, data.reference.audio.sr).float()
    try:
        lang = language_id(tts.model.config, request.options.language)
    except KeyError:
        raise InputError(
            zh=f"模型不认识语言 {request.options.language}。",
            en=f"The model has no language {request.options.language}.",
        ) from None
    samples = [
        Sample(tts._tokenize_texts([assistant_text(c.text)])[0][0].cpu(), code)
        for c, code in zip(data.clips, codes, strict=True)
    ]
    trainer = Trainer(tts.model, samples, speaker, request.options, run_dir, lang)
    resumed = trainer.resume()
    progress(0.0, "resuming" if resumed else "training")
    sentences = sentences_for([c.text for c in data.clips], request.eval_sentences)
    rate, language, seed = data.units_per_second(), request.options.language, request.options.seed
    recognise = _recogniser()
    ab = run_dir / "ab"
    if sentences and not (ab / ZERO_SHOT_WAV).is_file():
        progress(None, "zero-shot clone for the A/B comparison")
        ref = data.reference
        zero_shot(tts, ref.audio, ref.text, sentences[0], rate, ab / ZERO_SHOT_WAV, language, seed)

    def on_epoch(record, tts=tts, state=trainer.state):
        if not sentences:
            _write_epochs(run_dir, state.history, record, None)
            return None
        keep = ab / f"epoch-{record.epoch:03d}.wav"
        result = evaluate(tts, speaker, sentences, rate, language, seed, recognise, keep).to_dict()
        _write_epochs(run_dir, state.history, record, result, sentences[0])
        return result

    history = trainer.run(progress, cancel, on_epoch)
    chosen = best_epoch(history)
    if chosen == history[-1].epoch:
        state = trainable_state(trainer.model)
    else:
        state = torch.load(trainer.epoch_path(chosen), map_location="cpu", weights_only=True)["trainable"]
    speaker = speaker.cpu()
    del trainer, tts, on_epoch
    gc.collect()
    if device.startswith("cuda"):
        torch.cuda.empty_cache()
    progress(None, "writing the checkpoint")
    export_custom_voice(info.path, out, key, speaker, state, request.options)
    report = _report(request, info.path, data, need, history, device, time.monotonic() - started)
    report["exported_epoch"] = chosen
    (run_dir / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    if request.add_to_library:
        progress(None, "adding the voice to the library")
        add_trained_voice(library, out, request.name, key, report, request.consent_by)
    progress(1.0, "done")
    return FinetuneResult(out=out, speaker=key, report=report)


ZERO_SHOT_WAV = "zero-shot.wav"


def _write_epochs(run_dir: Path, history, record, evaluation, sentence: str = "") -> None:
    """``training/epochs.json``: every finished epoch so far, with its evaluation and A/B files (for status)."""
    entries = [asdict(r) for r in history] + [{**asdict(record), "evaluation": evaluation}]
    for entry in entries:
        if entry.get("evaluation") and sentence:
            entry["ab"] = {
                "text": sentence,
                "trained": f"ab/epoch-{entry['epoch']:03d}.wav",
                "zero_shot": f"ab/{ZERO_SHOT_WAV}",
            }
    tmp = run_dir / "epochs.json.part"
    tmp.write_text(json.dumps(entries, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(run_dir / "epochs.json")


def _recogniser():
    """``recognise(samples, sr) -> text`` by the local recogniser when one is on disk, else None."""
    from .. import recogniser

    folder = recogniser.find_local()
    if folder is None:
        return None

    def recognise(samples, sr):
        from ..audio import Audio, resample

        audio = resample(Audio(samples, sr), recogniser.SAMPLE_RATE)
        return recogniser.get(folder).transcribe(audio.samples, word_timestamps=False).text

    return recognise


def _keep_reference(run_dir: Path, data: Dataset) -> None:
    """The reference clip (24 kHz, cleaned) and its words, for the library and the A/B comparison."""
    import soundfile as sf

    ref = data.reference
    sf.write(str(run_dir / REFERENCE_WAV), ref.audio.samples, ref.audio.sr, subtype="PCM_16")
    (run_dir / REFERENCE_TXT).write_text(ref.text, encoding="utf-8")


def _report(request, base: Path, data: Dataset, need: Estimate, history, device: str, seconds: float) -> dict:
    return {
        "speaker": speaker_key(request.name),
        "base": str(base),
        "device": device,
        "options": asdict(request.options),
        "data": {
            "clips": len(data.clips),
            "minutes": round(data.seconds / 60, 2),
            "units_per_second": round(data.units_per_second(), 3),
            "reference": data.reference.name,
            "rejected": [{"name": r.name, "zh": r.zh, "en": r.en} for r in data.rejected],
        },
        "estimate_gb": {"memory": round(need.memory / GB, 2), "disk": round(need.disk / GB, 2)},
        "parameters": need.parameters,
        "trainable": need.trainable,
        "epochs": [asdict(r) for r in history],
        "held_out": sentences_for([c.text for c in data.clips], request.eval_sentences),
        "seconds": round(seconds, 1),
    }
