"""Folders of training clips for the fine-tuning tests (synthetic speech-like audio, Chinese transcripts)."""

from __future__ import annotations

import numpy as np
from audio_fixtures import utterance, write_wav

SENTENCES = [
    "今天天气很好我们去公园散步吧",
    "这是一段用来训练声音的录音",
    "请把窗户打开让新鲜空气进来",
    "明天早上八点在学校门口见面",
    "他喜欢在周末读书和听音乐",
    "我们一起去吃晚饭好不好呀",
    "这本书讲的是一个古老的故事",
    "火车马上就要开了请快上车",
    "春天来了花园里开满了鲜花",
    "谢谢你帮我修好了这台电脑",
    "晚上的月亮又圆又亮真好看",
    "小猫在沙发上安静地睡着了",
]


def make_clips(folder, count=12, seconds=6.0, texts=None, silent=False):
    """``count`` clips of ``seconds`` of speech (or silence) with same-named transcripts in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        if silent:
            samples = np.zeros(int((seconds + 0.8) * 24_000), dtype=np.float32)
        else:
            samples, _ = utterance([("sil", 0.4), ("speech", seconds), ("sil", 0.4)], seed=10 * i)
        write_wav(folder / f"clip{i:02d}.wav", samples, 24_000)
        text = texts[i] if texts else SENTENCES[i % len(SENTENCES)] + "，" + SENTENCES[i % len(SENTENCES)][:8]
        (folder / f"clip{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder
