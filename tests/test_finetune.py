"""Fine-tuning: the training layout equals inference's, the loop learns, resumes exactly, and exports a voice.

All on the tiny random checkpoints (text width 32, talker width 64, as the
0.6B's 2048 vs 1024), a few optimiser steps each.
"""

from __future__ import annotations

import itertools
import json

import pytest
import torch

from studio.backend import qwen_tts
from studio.finetune import layout
from studio.finetune.export import export_custom_voice
from studio.finetune.train import Trainer, TrainOptions, trainable_state
from studio.random_checkpoint import MARKER_FILE


def _load(path):
    qwen_tts()
    from qwen_tts import Qwen3TTSModel

    return Qwen3TTSModel.from_pretrained(str(path), dtype=torch.float32)


def _samples(tts, frames=(8, 8), seed=1):
    generator = torch.Generator().manual_seed(seed)
    texts = ["你好，世界。", "Hello there.", "今天天气很好。", "One two three."]
    return [
        layout.Sample(
            tts._tokenize_texts([layout.assistant_text(texts[i])])[0][0],
            torch.randint(0, 2048, (n, 16), generator=generator),
        )
        for i, n in enumerate(frames)
    ]


def _generate_with_hooks(model, text_ids, speaker, language):
    """Greedy generate; return its codes and the raw logits of every talker and code-predictor step."""
    talker_logits, predictor_logits = [], []
    hooks = [model.talker.codec_head.register_forward_hook(lambda m, i, o: talker_logits.append(o[0, -1].clone()))]
    hooks += [
        head.register_forward_hook(lambda m, i, o: predictor_logits.append(o[0, -1].clone()))
        for head in model.talker.code_predictor.lm_head
    ]
    try:
        codes, _ = model.generate(
            input_ids=[text_ids],
            languages=[language],
            speakers=[speaker],
            non_streaming_mode=True,
            do_sample=False,
            subtalker_dosample=False,
            max_new_tokens=10,
        )
    finally:
        for hook in hooks:
            hook.remove()
    return codes[0], talker_logits, predictor_logits


def test_tiny_checkpoints_have_a_text_width_unlike_the_talker_s(tiny_base):
    config = json.loads((tiny_base / "config.json").read_text())["talker_config"]
    assert config["text_hidden_size"] != config["hidden_size"]


@pytest.mark.parametrize("language", ["Auto", "Chinese"])
def test_teacher_forced_logits_equal_those_generate_computes_at_each_step(tiny_custom, language):
    tts = _load(tiny_custom)
    model = tts.model.eval()
    text_ids = tts._tokenize_texts([layout.assistant_text("你好，世界。Hello.")])[0]
    codes, talker_steps, predictor_steps = _generate_with_hooks(model, text_ids, "vivian", language)
    frames = codes.shape[0]
    assert frames >= 2
    speaker = model.talker.get_input_embeddings().weight[model.config.talker_config.spk_id["vivian"]]
    with torch.no_grad():
        batch = layout.build_batch(
            model, [layout.Sample(text_ids[0], codes)], speaker, layout.language_id(model.config, language)
        )
        hidden, logits = layout.talker_forward(model, batch)
        start = int(batch.frame_cols[0])
        # Step k of generate gives frame k's first code (or EOS after the last frame).
        steps = min(len(talker_steps), frames + 1)
        forced = logits[0, start : start + steps]
        torch.testing.assert_close(forced, torch.stack(talker_steps[:steps]), rtol=1e-4, atol=1e-4)
        # Head i of the code predictor gives codebook i+1 of the frame, from the hidden state generate hands it.
        predicted = layout.predictor_logits(model, hidden[batch.frame_rows, batch.frame_cols], codes)
        reference = torch.stack(predictor_steps[: 15 * frames]).view(frames, 15, -1)
        torch.testing.assert_close(predicted, reference, rtol=1e-4, atol=1e-4)
    assert predicted.shape[1] == 15  # codebook 15 has its head and its label


def test_batched_layout_equals_one_sample_at_a_time(tiny_base):
    tts = _load(tiny_base)
    model = tts.model.eval()
    samples = _samples(tts, frames=(5, 9))
    speaker = torch.randn(model.config.talker_config.hidden_size)
    with torch.no_grad():
        together = layout.compute_losses(model, layout.build_batch(model, samples, speaker))
        alone = [layout.talker_forward(model, layout.build_batch(model, [s], speaker))[1] for s in samples]
        _, batched = layout.talker_forward(model, layout.build_batch(model, samples, speaker))
    for b, logits in enumerate(alone):
        torch.testing.assert_close(batched[b, : logits.shape[1]], logits[0], rtol=1e-4, atol=1e-4)
    assert together.talker > 0 and together.predictor > 0


def test_full_fine_tuning_overfits_and_the_exported_voice_reloads_and_speaks(tiny_base, tmp_path):
    tts = _load(tiny_base)
    model = tts.model
    samples = _samples(tts)
    speaker = torch.randn(model.config.talker_config.hidden_size, generator=torch.Generator().manual_seed(2))
    frozen = {
        n: p.detach().clone()
        for n, p in model.named_parameters()
        if n.startswith(("speaker_encoder.", "talker.model.text_embedding."))
    }
    options = TrainOptions(epochs=24, batch_size=2, grad_accum=1, lora_rank=0, warmup_steps=3, lr=1e-2)
    trainer = Trainer(model, samples, speaker, options, tmp_path / "run")
    history = trainer.run()
    assert history[-1].loss < 0.25 * history[0].loss
    for name, value in frozen.items():
        assert torch.equal(dict(model.named_parameters())[name], value), name
    assert (tmp_path / "run" / "epoch-024.pt").is_file()

    out = export_custom_voice(tiny_base, tmp_path / "voice", "Ada Lovelace", speaker, trainable_state(model), options)
    config = json.loads((out / "config.json").read_text())
    assert config["tts_model_type"] == "custom_voice"
    assert list(config["talker_config"]["spk_id"]) == ["ada lovelace"]
    assert not (out / MARKER_FILE).exists()

    reloaded = _load(out)
    assert "ada lovelace" in reloaded.get_supported_speakers()
    stored = reloaded.model.talker.get_input_embeddings().weight[config["talker_config"]["spk_id"]["ada lovelace"]]
    with torch.no_grad():
        losses = layout.compute_losses(reloaded.model, layout.build_batch(reloaded.model, samples, stored))
    assert losses.talker_accuracy >= 0.9 and losses.predictor_accuracy >= 0.99
    wavs, sr = reloaded.generate_custom_voice(text="你好。", speaker="Ada Lovelace", max_new_tokens=6)
    assert sr == 24_000 and wavs[0].size > 0


def test_lora_learns_and_merges_into_the_same_function(tiny_base, tmp_path):
    tts = _load(tiny_base)
    model = tts.model
    samples = _samples(tts, frames=(6, 6))
    speaker = torch.randn(model.config.talker_config.hidden_size, generator=torch.Generator().manual_seed(3))
    options = TrainOptions(epochs=6, batch_size=2, grad_accum=1, lora_rank=4, warmup_steps=2, lr=1e-2)
    trainer = Trainer(model, samples, speaker, options, tmp_path / "run")
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n for n in trainable)
    history = trainer.run()
    assert history[-1].loss < history[0].loss
    with torch.no_grad():
        before = layout.compute_losses(model, layout.build_batch(model, samples, speaker))
    out = export_custom_voice(tiny_base, tmp_path / "voice", "lora", speaker, trainable_state(model), options)
    reloaded = _load(out).model
    stored = reloaded.talker.get_input_embeddings().weight[3000]
    with torch.no_grad():
        after = layout.compute_losses(reloaded, layout.build_batch(reloaded, samples, stored))
    assert after.talker == pytest.approx(before.talker, rel=1e-4)
    assert after.predictor == pytest.approx(before.predictor, rel=1e-4)


def test_a_cancelled_run_resumes_to_the_same_weights_as_one_that_never_stopped(tiny_base, tmp_path):
    from studio.errors import Cancelled
    from studio.progress import CancelToken

    options = TrainOptions(epochs=2, batch_size=1, grad_accum=2, lora_rank=4, warmup_steps=2, lr=5e-3)

    def trainer(folder):
        tts = _load(tiny_base)
        samples = _samples(tts, frames=(4, 5, 4, 6))
        speaker = torch.randn(tts.model.config.talker_config.hidden_size, generator=torch.Generator().manual_seed(4))
        return Trainer(tts.model, samples, speaker, options, tmp_path / folder)

    straight = trainer("straight")
    straight.run()

    token, steps = CancelToken(), []

    def cancel_after_one_step(fraction, message):
        steps.append(message)
        token.cancel()

    first = trainer("stopped")
    with pytest.raises(Cancelled):
        first.run(cancel_after_one_step, token)
    assert len(steps) == 1 and "epoch 1/2" in steps[0] and "ETA" in steps[0]

    second = trainer("stopped")
    assert second.resume()
    second.run()
    a, b = trainable_state(straight.model), trainable_state(second.model)
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    assert [r.epoch for r in second.state.history] == [1, 2]


def test_a_run_folder_refuses_to_resume_with_other_options(tiny_base, tmp_path):
    from studio.errors import ConflictError

    tts = _load(tiny_base)
    samples = _samples(tts, frames=(4, 4))
    speaker = torch.zeros(tts.model.config.talker_config.hidden_size)
    Trainer(tts.model, samples, speaker, TrainOptions(epochs=1, lora_rank=2), tmp_path / "run").run()
    other = Trainer(_load(tiny_base).model, samples, speaker, TrainOptions(epochs=1, lora_rank=4), tmp_path / "run")
    with pytest.raises(ConflictError):
        other.resume()


def test_gradient_accumulation_equals_the_larger_batch(tiny_base, tmp_path):
    def one_step(batch_size, accum, folder):
        tts = _load(tiny_base)
        tts.model.to(torch.bfloat16)  # stored in bf16: training still keeps float32 master weights
        samples = _samples(tts, frames=(6, 6))
        speaker = torch.randn(tts.model.config.talker_config.hidden_size, generator=torch.Generator().manual_seed(5))
        options = TrainOptions(epochs=1, batch_size=batch_size, grad_accum=accum, lora_rank=0, warmup_steps=1, lr=1e-3)
        trainer = Trainer(tts.model, samples, speaker, options, tmp_path / folder)
        assert all(p.dtype == torch.float32 for p in trainer.model.parameters() if p.requires_grad)
        trainer.run()
        assert trainer.state.step == 1
        return trainable_state(trainer.model)

    together, accumulated = one_step(2, 1, "together"), one_step(1, 2, "accumulated")
    for name in together:
        torch.testing.assert_close(together[name], accumulated[name], rtol=1e-4, atol=1e-5)  # steps are ~1e-3


def test_learning_rate_warms_up_then_decays_to_a_tenth():
    from studio.finetune.train import lr_at

    options = TrainOptions(lr=1e-4, warmup_steps=4)
    rates = [lr_at(step, 20, options) for step in range(20)]
    assert rates[:4] == pytest.approx([2.5e-5, 5e-5, 7.5e-5, 1e-4])
    assert all(a >= b for a, b in itertools.pairwise(rates[3:]))
    assert 1e-5 <= rates[-1] < 2e-5


def test_the_best_epoch_is_chosen_by_its_evaluation_not_by_being_last():
    from studio.finetune.evaluate import best_epoch
    from studio.finetune.train import EpochRecord

    def record(epoch, score):
        return EpochRecord(epoch, 1.0, 0.5, 0.5, 1.0, None if score is None else {"score": score})

    assert best_epoch([record(1, 0.2), record(2, 0.7), record(3, 0.1)]) == 2
    assert best_epoch([record(1, None), record(2, None)]) == 2
