"""How much of an Apple silicon SoC's unified memory the GPU may use.

CPU and GPU share one pool, but macOS caps the memory the GPU may wire (keep resident)
at Metal's ``MTLDevice.recommendedMaxWorkingSetSize``
(https://developer.apple.com/documentation/metal/mtldevice/recommendedmaxworkingsetsize),
which llama.cpp prints at load (``ggml_metal_init: recommendedMaxWorkingSetSize``) and
warns past. Measured defaults, as fractions of the physical memory (Apple's "N GB" is
N GiB: the logged figures are exact fractions of N x 2**30 bytes):

- 2/3 up to 32 GiB: 16 GiB M4 "~10.67 GB" (exo-explore/exo PR 1672, 2026-03-06); 32 GiB
  M1 Max 21845.34 MiB (ggml-org/llama.cpp PR 2011, comment of 2023-07-02) and M2 Max
  (ollama/ollama issue 434, 2023-08-28).
- 3/4 above: 64 GiB M2 51539.61 MB (ggml-org/llama.cpp issue 9112, 2024-08-21); 128 GiB
  "about 96 GB" (https://stencel.io/posts/apple-silicon-limitations-with-usage-on-local-llm%20.html;
  GPUStack reads the same 75 %, gpustack/gpustack issue 1375, 2025-02-28). For 36 GB the
  sources disagree: a blog's rule of thumb puts 36 GB machines in the lower tier but its own
  example gives "about 27 GB" of 36 (3/4;
  https://www.thinkdifferent.blog/blog/the-macbook-pro-setting-that-doubles-your-ai-performance/),
  as does a llama.cpp log of an M4 Max 36 GB (28991.03 MB); inferplan uses 3/4.

``sudo sysctl iogpu.wired_limit_mb=N`` (macOS 14 and later; 0 restores the default)
raises the cap, and ``recommendedMaxWorkingSetSize`` then reports the new value
(antirez/ds4 PR 893, 2026-08-29). That thread also measures 107.52 GiB of 128 GiB (84 %)
on stock macOS 26: newer releases may allow more; inferplan keeps the 2/3 and 3/4 rule,
the conservative default. An accelerator record's (or the user's) ``usable_memory_bytes``
replaces the rule.
"""

from __future__ import annotations

from inferplan.specs.hardware import AcceleratorSpec, DeviceKind
from inferplan.units import GB, GiB, MiB

SMALL_SOC_MEMORY_BYTES = 32 * GiB
"""Largest physical memory that gets the small-machine share."""
SMALL_SOC_GPU_SHARE = 2 / 3
LARGE_SOC_GPU_SHARE = 3 / 4


def soc_physical_memory_bytes(a: AcceleratorSpec) -> float:
    """Physical bytes of a SoC record whose ``memory_bytes`` holds Apple's "N GB" as N e9:
    the memory is N GiB."""
    return a.memory_bytes / GB * GiB


def soc_default_gpu_share(physical_bytes: float) -> float:
    """macOS's default GPU wired-memory share of ``physical_bytes`` (2/3 or 3/4)."""
    return SMALL_SOC_GPU_SHARE if physical_bytes <= SMALL_SOC_MEMORY_BYTES else LARGE_SOC_GPU_SHARE


def device_memory_bytes(a: AcceleratorSpec) -> float:
    """Bytes an engine can allocate on one device: the record's ``usable_memory_bytes``
    when set; for a SoC, macOS's default GPU wired limit; else ``memory_bytes``.

    >>> from inferplan.catalog import load_accelerators
    >>> round(device_memory_bytes(load_accelerators().get("apple-m2-max-96gb", "gpu")) / GiB)
    72
    """
    if a.usable_memory_bytes:
        return a.usable_memory_bytes
    if a.kind is DeviceKind.SOC:
        physical = soc_physical_memory_bytes(a)
        return physical * soc_default_gpu_share(physical)
    return a.memory_bytes


def soc_memory_note(a: AcceleratorSpec) -> str | None:
    """One line saying how much unified memory the GPU gets on a SoC; None otherwise."""
    if a.kind is not DeviceKind.SOC:
        return None
    usable = device_memory_bytes(a)
    name = f"{a.memory_bytes / GB:.0f} GB unified memory"
    if a.usable_memory_bytes:
        return (
            f"the GPU may use {usable / GB:.1f} GB of the {name} (set with "
            f"sudo sysctl iogpu.wired_limit_mb={usable / MiB:.0f})"
        )
    share = soc_default_gpu_share(soc_physical_memory_bytes(a))
    return (
        f"macOS lets the GPU wire about {share:.0%} of the {name} "
        f"({usable / GiB:.0f} GiB = {usable / GB:.1f} GB) by default; raise it with "
        f"sudo sysctl iogpu.wired_limit_mb=N and --gpu-memory-limit-gb"
    )
