import pytest

from studio.device import Capabilities, choose_placement, cpu_has_native_bf16
from studio.errors import InputError

NONE = Capabilities(cuda=False, cuda_bf16=False, mps=False, cpu_bf16=False, flash_attn=False)
CPU_BF16 = Capabilities(cuda=False, cuda_bf16=False, mps=False, cpu_bf16=True, flash_attn=False)
CUDA = Capabilities(cuda=True, cuda_bf16=True, mps=False, cpu_bf16=False, flash_attn=False)
OLD_CUDA = Capabilities(cuda=True, cuda_bf16=False, mps=False, cpu_bf16=False, flash_attn=False)
CUDA_FA = Capabilities(cuda=True, cuda_bf16=True, mps=False, cpu_bf16=False, flash_attn=True)
MAC = Capabilities(cuda=False, cuda_bf16=False, mps=True, cpu_bf16=False, flash_attn=False)


@pytest.mark.parametrize(
    ("caps", "device", "dtype", "expected"),
    [
        (NONE, "auto", "auto", ("cpu", "float32", "sdpa")),
        (CPU_BF16, "auto", "auto", ("cpu", "bfloat16", "sdpa")),
        (CUDA, "auto", "auto", ("cuda", "bfloat16", "sdpa")),
        (OLD_CUDA, "auto", "auto", ("cuda", "float16", "sdpa")),
        (CUDA_FA, "auto", "auto", ("cuda", "bfloat16", "flash_attention_2")),
        (CUDA_FA, "auto", "float32", ("cuda", "float32", "sdpa")),  # flash-attn has no fp32 kernels
        (CUDA_FA, "cpu", "auto", ("cpu", "float32", "sdpa")),
        (MAC, "auto", "auto", ("mps", "float16", "sdpa")),
        (MAC, "cpu", "float32", ("cpu", "float32", "sdpa")),
        (CUDA, "cuda:1", "auto", ("cuda:1", "bfloat16", "sdpa")),
    ],
)
def test_placement_prefers_cuda_then_mps_then_cpu(caps, device, dtype, expected):
    placement = choose_placement(caps, device, dtype)
    assert (placement.device, placement.dtype, placement.attention) == expected


@pytest.mark.parametrize(("caps", "device"), [(NONE, "cuda"), (NONE, "mps"), (CUDA, "tpu")])
def test_unavailable_or_unknown_device_is_refused(caps, device):
    with pytest.raises(InputError) as info:
        choose_placement(caps, device, "auto")
    assert info.value.zh and info.value.en


def test_unknown_dtype_is_refused():
    with pytest.raises(InputError, match="dtype"):
        choose_placement(NONE, "auto", "int3")


def test_cpu_bf16_flag_parsing():
    assert cpu_has_native_bf16("processor: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    assert cpu_has_native_bf16("flags : fpu amx_bf16 amx_tile\n")
    assert not cpu_has_native_bf16("flags : fpu sse2 avx2 avx512f\n")
    assert not cpu_has_native_bf16("")
