"""Tests for the shipped accelerator catalog (``catalog/data/accelerators.yaml``).

Pinned figures come from vendor datasheets, cited next to each assertion; dense tensor
rates are the vendor's 2:4-sparsity figure divided by two where the vendor only
publishes the sparse figure.
"""

from __future__ import annotations

import datetime as dt

import pytest

from inferplan.catalog import load_accelerators
from inferplan.errors import UnknownIdError
from inferplan.specs.hardware import AcceleratorSpec, DeviceKind

# Hardware ids used by the validation data (../shared/validation/README.md, "hardware:"
# vocabulary plus the "Further ids" paragraph). Copied here so the test fails if the
# catalog drops one of them.
VALIDATION_HARDWARE_IDS = [
    "a100-80gb",
    "a100-pcie-80gb",
    "a100-sxm-40gb",
    "a100-sxm-80gb",
    "gh200",
    "h100-pcie-80gb",
    "h100-sxm-80gb",
    "h200-sxm-141gb",
    "l40s-48gb",
    "mi300x-192gb",
    "rtx-3090-24gb",
    "rtx-4090-24gb",
    "b200-180gb",
    "gb200-192gb",
    "apple-m1-max-64gb",
    "apple-m2-ultra-192gb",
    "apple-m3-max-64gb",
]

# Every id the catalog must define as a record id (not merely as an alias).
REQUIRED_RECORD_IDS = [
    "a100-sxm-40gb",
    "a100-sxm-80gb",
    "a100-pcie-40gb",
    "a100-pcie-80gb",
    "h100-sxm-80gb",
    "h100-pcie-80gb",
    "h100-nvl-94gb",
    "h200-sxm-141gb",
    "gh200",
    "b200-180gb",
    "gb200-192gb",
    "l40s-48gb",
    "l4-24gb",
    "a10g-24gb",
    "rtx-4090-24gb",
    "rtx-3090-24gb",
    "mi300x-192gb",
    "mi325x-256gb",
    "gaudi2-96gb",
    "gaudi3-128gb",
    "apple-m1-max-64gb",
    "apple-m2-ultra-192gb",
    "apple-m3-max-64gb",
    "xeon-6980p",
    "epyc-9654",
    "host-epyc-genoa-2vcpu",
]

# Common spellings and the record each must resolve to.
ALIASES = {
    "h100": "h100-sxm-80gb",
    "h100-sxm": "h100-sxm-80gb",
    "h100-pcie": "h100-pcie-80gb",
    "h200": "h200-sxm-141gb",
    "h200-141gb": "h200-sxm-141gb",
    "a100": "a100-sxm-80gb",
    "a100-80gb": "a100-sxm-80gb",
    "gh200-96gb": "gh200",
    "mi300x": "mi300x-192gb",
    "b200": "b200-180gb",
    "l40s": "l40s-48gb",
    "l4": "l4-24gb",
    "a10g": "a10g-24gb",
    "rtx4090": "rtx-4090-24gb",
    "rtx3090": "rtx-3090-24gb",
    "gaudi3": "gaudi3-128gb",
    "gaudi2": "gaudi2-96gb",
    "m2-ultra": "apple-m2-ultra-192gb",
}

# Devices whose FP8 rate is not twice the BF16 rate, with the reason.
FP8_RATIO_EXCEPTIONS = {
    # Intel Gaudi 3 white paper: the MME delivers 1,835 TFLOPS for both BF16 and FP8.
    "gaudi3-128gb",
}


def _get(key: str) -> AcceleratorSpec:
    return load_accelerators().get(key)


# ---------------------------------------------------------------- validity & provenance


def test_catalog_loads_and_every_record_validates() -> None:
    catalog = load_accelerators()
    assert len(catalog) >= len(REQUIRED_RECORD_IDS)
    for rec in catalog:
        assert isinstance(rec, AcceleratorSpec)
        assert rec.source.strip(), rec.id
        assert isinstance(rec.as_of, dt.date), rec.id
        assert rec.as_of <= dt.date(2030, 12, 31), rec.id


def test_every_record_explains_itself_in_notes() -> None:
    # Every record carries at least one derivation or caveat (dense = sparse / 2, per GPU =
    # rack / 72, ...); an empty note means a figure went in unexplained.
    for rec in load_accelerators():
        assert len(rec.notes) > 40, rec.id


def test_ids_are_unique() -> None:
    ids = load_accelerators().ids()
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("rid", REQUIRED_RECORD_IDS)
def test_required_record_ids_exist(rid: str) -> None:
    assert rid in load_accelerators().ids()


@pytest.mark.parametrize("hid", VALIDATION_HARDWARE_IDS)
def test_validation_hardware_ids_resolve(hid: str) -> None:
    assert hid in load_accelerators()
    assert isinstance(_get(hid), AcceleratorSpec)


@pytest.mark.parametrize(("alias", "rid"), sorted(ALIASES.items()))
def test_aliases_resolve_to_the_intended_record(alias: str, rid: str) -> None:
    assert _get(alias).id == rid


def test_no_alias_shadows_another_record_id() -> None:
    catalog = load_accelerators()
    ids = set(catalog.ids())
    for rec in catalog:
        assert not (set(rec.aliases) & (ids - {rec.id})), rec.id


def test_unknown_id_suggests_the_closest_ids() -> None:
    with pytest.raises(UnknownIdError) as info:
        _get("h100-sxn-80gb")
    assert "h100-sxm-80gb" in info.value.suggestions
    assert info.value.value == "h100-sxn-80gb"


# ---------------------------------------------------------------- pinned figures


def test_h100_sxm_pinned_figures() -> None:
    h100 = _get("h100-sxm-80gb")
    # NVIDIA H100 datasheet / product page (nvidia.com/en-us/data-center/h100): 80 GB HBM3,
    # 3.35 TB/s, BF16 Tensor Core 1,979 TFLOPS "with sparsity" -> dense 1,979 / 2 = 989.5.
    assert h100.memory_bytes == 80e9
    assert h100.memory_bandwidth_bytes_per_s == 3.35e12
    assert h100.peak_flops.bf16 == pytest.approx(1979e12 / 2)
    assert h100.peak_flops.bf16 == pytest.approx(989e12, rel=1e-3)
    # NVLink 4: 900 GB/s bidirectional -> 450 GB/s per direction.
    assert h100.interconnect_bandwidth_bytes_per_s == 900e9 / 2


def test_h200_pinned_figures() -> None:
    h200 = _get("h200-sxm-141gb")
    # NVIDIA H200 product page (nvidia.com/en-us/data-center/h200): 141 GB HBM3e, 4.8 TB/s.
    assert h200.memory_bytes == 141e9
    assert h200.memory_bandwidth_bytes_per_s == 4.8e12


def test_mi300x_pinned_figures() -> None:
    mi300x = _get("mi300x-192gb")
    # AMD Instinct MI300X data sheet: 192 GB HBM3, 5.3 TB/s, FP16/BF16 1,307.4 TFLOPS dense
    # (2,614.9 with structured sparsity).
    assert mi300x.memory_bytes == 192e9
    assert mi300x.memory_bandwidth_bytes_per_s == 5.3e12
    assert mi300x.peak_flops.bf16 == pytest.approx(1307.4e12)


def test_a100_sxm_80gb_pinned_figures() -> None:
    a100 = _get("a100-sxm-80gb")
    # NVIDIA A100 datasheet (nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf): A100 80GB
    # SXM 2,039 GB/s; BF16 Tensor Core 312 TFLOPS dense (624 with sparsity).
    assert a100.memory_bandwidth_bytes_per_s == 2.039e12
    assert a100.peak_flops.bf16 == pytest.approx(312e12)


def test_rtx_4090_pinned_figures() -> None:
    rtx = _get("rtx-4090-24gb")
    # NVIDIA Ada Lovelace architecture whitepaper, appendix: RTX 4090 memory bandwidth
    # 1,008 GB/s; FP16/BF16 tensor with FP32 accumulate 165.2 TFLOPS dense.
    assert rtx.memory_bandwidth_bytes_per_s == 1.008e12
    assert rtx.peak_flops.bf16 == pytest.approx(165.2e12)


def test_gb200_is_per_gpu_not_per_rack() -> None:
    gb200 = _get("gb200-192gb")
    # GB200 NVL72: 360 PFLOPS FP16/BF16 with sparsity per 72-GPU rack
    # -> 360e15 / 72 / 2 = 2.5e15 dense per GPU.
    assert gb200.peak_flops.bf16 == pytest.approx(360e15 / 72 / 2)
    assert gb200.max_devices_per_node == 72


def test_host_record_follows_its_stated_derivations() -> None:
    host = _get("host-epyc-genoa-2vcpu")
    assert host.kind is DeviceKind.CPU
    # 24 GiB = 24 x 2^30 = 25,769,803,776 bytes.
    assert host.memory_bytes == 24 * 2**30 == 25_769_803_776
    # per-vCPU share of the EPYC 9654's 360 W TDP: 360 x 2 / 192 threads = 3.75 W.
    assert host.tdp_w == pytest.approx(360 * 2 / 192)
    # Measured figures must be physically possible for 2 Zen 4 cores: below 12 channels x
    # 8 B x 4800 MT/s = 460.8 GB/s of the whole socket, and below 2 cores x 32 FLOP/cycle x
    # 3.7 GHz (Genoa max boost) = 236.8 GFLOP/s.
    assert 1e9 < host.memory_bandwidth_bytes_per_s < 460.8e9
    assert host.peak_flops.fp32 is not None
    assert 1e9 < host.peak_flops.fp32 <= 2 * 32 * 3.7e9
    assert host.max_devices_per_node == 1
    assert "measure_host.py" in host.source


def test_cpu_memory_bandwidth_is_channels_times_8_bytes_times_rate() -> None:
    # EPYC 9654: 12 x 8 B x 4800 MT/s = 460.8 GB/s; Xeon 6980P: 12 x 8 B x 6400 MT/s = 614.4 GB/s.
    assert _get("epyc-9654").memory_bandwidth_bytes_per_s == pytest.approx(12 * 8 * 4800e6)
    assert _get("xeon-6980p").memory_bandwidth_bytes_per_s == pytest.approx(12 * 8 * 6400e6)
    # EPYC 9654 fp32: 96 cores x 2.4 GHz x 32 FLOP/cycle = 7.3728 TFLOP/s.
    assert _get("epyc-9654").peak_flops.fp32 == pytest.approx(96 * 2.4e9 * 32)


# ---------------------------------------------------------------- sanity properties


def test_fp8_is_twice_bf16_within_5_percent() -> None:
    checked = 0
    for rec in load_accelerators():
        pf = rec.peak_flops
        if pf.fp8 is None or pf.bf16 is None:
            continue
        if rec.id in FP8_RATIO_EXCEPTIONS:
            continue
        checked += 1
        assert pf.fp8 / (2 * pf.bf16) == pytest.approx(1.0, abs=0.05), rec.id
    assert checked >= 10  # H100/H200/GH200/B200/GB200/L40S/L4/RTX 4090/MI300X/MI325X/...


def test_fp8_ratio_exceptions_are_still_exceptions() -> None:
    # Keeps the exception list honest: Gaudi 3 runs FP8 at the BF16 rate (1,835 TFLOPS).
    for rid in FP8_RATIO_EXCEPTIONS:
        pf = _get(rid).peak_flops
        assert pf.fp8 is not None and pf.bf16 is not None
        assert pf.fp8 == pytest.approx(pf.bf16)


def test_no_bf16_figure_is_a_sparse_figure() -> None:
    # The largest dense BF16 rate in the catalog is GB200's 2.5 PFLOPS; anything above
    # 2,600 TFLOPS would be a 2:4-sparsity or multi-GPU figure.
    for rec in load_accelerators():
        for value in (rec.peak_flops.bf16, rec.peak_flops.fp16):
            if value is not None:
                assert value <= 2600e12, rec.id


def test_dense_rates_never_exceed_the_next_narrower_format() -> None:
    # tf32 <= bf16 <= fp8 <= fp4 on every device that lists them.
    for rec in load_accelerators():
        pf = rec.peak_flops
        chain = [v for v in (pf.tf32, pf.bf16, pf.fp8, pf.fp4) if v is not None]
        assert chain == sorted(chain), rec.id


def test_bandwidth_and_memory_ordering() -> None:
    h200, h100, a100 = _get("h200-sxm-141gb"), _get("h100-sxm-80gb"), _get("a100-sxm-80gb")
    bw = "memory_bandwidth_bytes_per_s"
    assert getattr(h200, bw) > getattr(h100, bw) > getattr(a100, bw)
    assert h200.memory_bytes > h100.memory_bytes
    assert getattr(_get("b200-180gb"), bw) > getattr(h200, bw)
    assert getattr(_get("h100-pcie-80gb"), bw) < getattr(h100, bw)
    assert getattr(_get("a100-pcie-80gb"), bw) < getattr(a100, bw)


def test_interconnect_is_per_direction_and_below_memory_bandwidth() -> None:
    for rec in load_accelerators():
        assert rec.interconnect_bandwidth_bytes_per_s < rec.memory_bandwidth_bytes_per_s, rec.id
    # PCIe-only cards carry the PCIe per-direction rate: Gen4 x16 = 32 GB/s.
    for rid in ("l40s-48gb", "l4-24gb", "rtx-4090-24gb", "a100-pcie-80gb"):
        assert _get(rid).interconnect_bandwidth_bytes_per_s == 32e9, rid
    # Gen5 x16 = 64 GB/s.
    assert _get("h100-pcie-80gb").interconnect_bandwidth_bytes_per_s == 64e9


def test_single_device_kinds() -> None:
    for rec in load_accelerators():
        if rec.kind in (DeviceKind.SOC, DeviceKind.CPU):
            assert rec.max_devices_per_node == 1, rec.id
        if rec.kind is DeviceKind.SOC:
            assert rec.peak_flops.fp32 is not None and rec.peak_flops.fp16 is not None
