"""Choosing the device, dtype and attention implementation. Pure logic, testable anywhere."""

from __future__ import annotations

import importlib.util
import platform
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

DEVICES = ("auto", "cuda", "mps", "cpu")
DTYPES = ("auto", "bfloat16", "float16", "float32")


@dataclass(frozen=True)
class Capabilities:
    """What this machine offers; gathered once by :func:`probe`."""

    cuda: bool
    cuda_bf16: bool
    mps: bool
    cpu_bf16: bool
    flash_attn: bool


@dataclass(frozen=True)
class Placement:
    """Where and how a model runs."""

    device: str
    dtype: str
    attention: str


def cpu_has_native_bf16(cpuinfo: str | None = None) -> bool:
    """True when the CPU computes bf16 natively (AVX512-BF16 or AMX), per /proc/cpuinfo."""
    if cpuinfo is None:
        path = Path("/proc/cpuinfo")
        if platform.system() != "Linux" or not path.exists():
            return False
        cpuinfo = path.read_text(errors="ignore")
    flags = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags.update(line.split(":", 1)[1].split())
            break
    return bool(flags & {"avx512_bf16", "amx_bf16"})


def probe() -> Capabilities:
    """Inspect torch and the CPU (imports torch)."""
    import torch

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return Capabilities(
        cuda=cuda,
        cuda_bf16=cuda and torch.cuda.is_bf16_supported(),
        mps=mps,
        cpu_bf16=cpu_has_native_bf16(),
        flash_attn=importlib.util.find_spec("flash_attn") is not None,
    )


def choose_placement(caps: Capabilities, device: str = "auto", dtype: str = "auto") -> Placement:
    """Pick device (CUDA, then MPS, then CPU), dtype and attention for ``caps``.

    Explicit choices win; asking for a device the machine lacks is an error
    rather than a silent fall-back.
    """
    device, dtype = (device or "auto").lower(), (dtype or "auto").lower()
    if device not in DEVICES and not device.startswith("cuda:"):
        raise InputError(
            zh=f"未知设备：{device}。可选：{', '.join(DEVICES)}。",
            en=f"Unknown device: {device}. Choose one of {', '.join(DEVICES)}.",
        )
    if dtype not in DTYPES:
        raise InputError(
            zh=f"未知精度：{dtype}。可选：{', '.join(DTYPES)}。",
            en=f"Unknown dtype: {dtype}. Choose one of {', '.join(DTYPES)}.",
        )
    if device == "auto":
        device = "cuda" if caps.cuda else "mps" if caps.mps else "cpu"
    elif device.startswith("cuda") and not caps.cuda:
        raise InputError(
            zh="选择了 CUDA，但这台电脑没有可用的 CUDA 显卡。请改选 auto 或 cpu。",
            en="CUDA was requested but is not available on this machine. Choose auto or cpu.",
        )
    elif device == "mps" and not caps.mps:
        raise InputError(
            zh="选择了 MPS，但这台电脑不支持 Apple MPS。请改选 auto 或 cpu。",
            en="MPS was requested but is not available on this machine. Choose auto or cpu.",
        )

    if dtype == "auto":
        if device.startswith("cuda"):
            dtype = "bfloat16" if caps.cuda_bf16 else "float16"
        elif device == "mps":
            dtype = "float16"
        else:
            dtype = "bfloat16" if caps.cpu_bf16 else "float32"
    attention = "flash_attention_2" if device.startswith("cuda") and caps.flash_attn and dtype != "float32" else "sdpa"
    return Placement(device=device, dtype=dtype, attention=attention)
