"""Expert parallelism: all-to-all traffic, expert load imbalance, experts per rank.

Under expert parallelism (EP) the routed experts of every MoE layer are split, whole,
over ``ep`` devices: ``(E + r) / ep`` expert slots each, where ``r`` redundant copies of
popular experts may be added so that ``ep`` divides the slots (DeepSeek's EPLB,
DeepSeek-V3 technical report arXiv:2412.19437 section 3.4; SGLang
``--ep-num-redundant-experts``). With attention
data parallelism (SGLang ``--enable-dp-attention``, vLLM data-parallel attention with
expert parallelism) every device holds its own sequences, so each MoE layer first
*dispatches* every token to the devices of its ``k`` experts and then *combines* the
expert outputs back: two all-to-all calls per MoE layer.

**All-to-all time** of one MoE layer on one device sending ``T`` tokens of width ``h``:
``2 x latency + sum over the two calls of max(intra bytes / NVLink rate, inter bytes /
RDMA rate)``, each token sent as ``h x bytes per element``. Dispatch sends FP8 with one
FP32 scale per 128 values (``1 + 4/128`` bytes per element), combine sends BF16 (2 bytes),
as DeepEP does for DeepSeek-V3 (github.com/deepseek-ai/DeepEP README, V1 performance
tables). How many copies of a token cross each link depends on DeepEP's two kernel
families (``n = min(ep, devices per node)``, ``N = ep / n`` nodes):

* *low-latency* kernels (decode steps; CUDA-graph friendly): one copy per routed expert,
  ``k (n - 1) / ep`` of them to the other devices of the node and ``k (ep - n) / ep`` to
  other nodes (the ``1 / ep`` share for the device itself does not move);
* *normal* kernels (prefill): one copy per destination device inside the node,
  ``(n - 1)(1 - (1 - 1/ep)^k)`` expected, and one per destination node over RDMA,
  ``(N - 1)(1 - (1 - 1/N)^k)``, forwarded inside that node over NVLink (uniform routing).

Achieved rates, from DeepEP's published V1 tables (H800, ConnectX-7 400 Gb/s NICs,
4,096 tokens per batch, hidden 7,168, top-8, FP8 dispatch, BF16 combine):

* intranode normal kernels at EP 8: 153 GB/s dispatch, 158 GB/s combine over NVLink;
  against the H800's 200 GB/s per direction (catalog ``h800-sxm-80gb``) that is
  ``A2A_NVLINK_EFFICIENCY = 153 / 200 = 0.765`` of the accelerator's link figure
  (DeepEP V2 on SM100 reached 726 / 900 = 0.81);
* internode normal kernels: 43 GB/s (EP 16), 58 (EP 32), 51 (EP 64) over RDMA on a
  50 GB/s NIC; ``A2A_RDMA_EFFICIENCY = 43 / 50 = 0.86``, the lowest;
* low-latency kernels (decode, 128 tokens per device): dispatch 118, 155, 173, 192,
  194 us and combine 195, 273, 314, 369, 360 us at EP 16, 32, 64, 128, 256. With the
  internode bytes above at 43 GB/s the ten figures leave 15-49 us each, median 23.9 us:
  ``A2A_LATENCY_S = 24 us`` per call. At EP 8 the same formula over NVLink gives
  67 and 108 us against 77 and 114 us measured (pure-RDMA kernels of that release).

**Load imbalance.** The busiest device sets the step. With routing modelled as uniform
and independent (``T k`` token-to-expert assignments into ``ep`` devices, ``m = T k / ep``
on average) the most loaded device expects ``m + sqrt(2 m ln ep)`` (balls into bins,
Raab and Steger 1998, "Balls into bins - a simple and tight analysis", for
``m >> ep log ep``; the ``(1 - 1/ep)`` variance factor of a binomial is kept; for
``1 <= m <= 64`` on 8 devices it is 5-13% above the expected maximum of 8 Poisson(m)
loads). This is a derived figure, not a measurement: real routers are skewed (SGLang measured EPLB
speedups of 1.49x prefill and 2.54x decode at scale, lmsys.org 2025-05-05), and EPLB's
redundant experts bring a skewed load back towards this uniform expectation.
"""

from __future__ import annotations

import math

A2A_NVLINK_EFFICIENCY = 153.0 / 200.0
"""DeepEP intranode dispatch at EP 8 on H800 (153 GB/s) over the H800's NVLink per
direction (200 GB/s)."""

A2A_RDMA_EFFICIENCY = 43.0 / 50.0
"""DeepEP internode dispatch and combine at EP 16 (43 GB/s) over a 400 Gb/s NIC (50 GB/s)."""

A2A_LATENCY_S = 24e-6
"""Fixed time of one dispatch or combine call: median of what DeepEP's low-latency
kernels (EP 16-256, 128 tokens) take beyond their internode bytes at 43 GB/s."""

DISPATCH_BYTES_PER_ELEMENT = 1.0 + 4.0 / 128.0
"""FP8 activations plus one FP32 scale per 128 values (DeepSeek-V3 fine-grained
quantization, as DeepEP dispatches them)."""

COMBINE_BYTES_PER_ELEMENT = 2.0
"""BF16 expert outputs."""


def experts_per_rank(num_experts: int, ep: int, redundant: int = 0) -> int:
    """Expert slots on each device: ``(E + r) / ep``, rounded up if ``ep`` does not divide.

    >>> experts_per_rank(256, 8), experts_per_rank(256, 72, 32)
    (32, 4)
    """
    return -(-(num_experts + redundant) // max(1, ep))


def peer_shares(ep: int, devices_per_node: int) -> tuple[float, float]:
    """Shares of a device's token copies sent inside its node and to other nodes.

    The ``ep`` devices fill whole nodes; ``1 / ep`` of the copies stay on the device.

    >>> peer_shares(8, 8)
    (0.875, 0.0)
    >>> peer_shares(16, 8)
    (0.4375, 0.5)
    """
    if ep <= 1:
        return 0.0, 0.0
    n = min(ep, devices_per_node)
    return (n - 1) / ep, (ep - n) / ep


def token_copies(
    top_k: int, ep: int, devices_per_node: int, low_latency: bool
) -> tuple[float, float]:
    """Copies of one token a device sends (inside its node, to other nodes) per call.

    Hand check, top-8 at EP 16 over two nodes of 8: low-latency 8 x 7/16 = 3.5 and
    8 x 8/16 = 4; normal 7 x (1 - (15/16)^8) = 2.823 and 1 x (1 - (1/2)^8) = 0.9961.

    >>> token_copies(8, 16, 8, True)
    (3.5, 4.0)
    >>> [round(x, 4) for x in token_copies(8, 16, 8, False)]
    [2.823, 0.9961]
    """
    if ep <= 1:
        return 0.0, 0.0
    intra_share, inter_share = peer_shares(ep, devices_per_node)
    if low_latency:
        return top_k * intra_share, top_k * inter_share
    n = min(ep, devices_per_node)
    nodes = ep / n
    intra = (n - 1) * (1.0 - (1.0 - 1.0 / ep) ** top_k)
    inter = (nodes - 1) * (1.0 - (1.0 - 1.0 / nodes) ** top_k) if nodes > 1 else 0.0
    return intra, inter


def all_to_all_time_s(
    tokens: float,
    hidden: int,
    top_k: int,
    ep: int,
    devices_per_node: int,
    nvlink_bytes_per_s: float,
    rdma_bytes_per_s: float,
    low_latency: bool = True,
    latency_s: float = A2A_LATENCY_S,
) -> float:
    """Seconds of one MoE layer's dispatch and combine on a device sending ``tokens``.

    ``nvlink_bytes_per_s`` and ``rdma_bytes_per_s`` are achieved rates (link figure x
    the efficiencies above); ``low_latency`` picks the decode kernels, else the normal
    (prefill) ones. Hand check, DeepSeek-V3 (h 7,168, top-8), 128 tokens, EP 16
    over two nodes of 8, 50 GB/s x 0.86 = 43 GB/s between nodes, 450 x 0.765 GB/s inside,
    low-latency: dispatch 128 x 8 x 7,168 x 1.03125 = 7,569,408 B, half of it to the other
    node: 3,784,704 / 43e9 = 88.02 us; combine 14,680,064 B, half: 170.70 us; with
    2 x 24 us, 306.7 us:

    >>> round(all_to_all_time_s(128, 7168, 8, 16, 8, 450e9 * 0.765, 50e9 * 0.86) * 1e6, 1)
    306.7

    Normal kernels, 4,096 tokens, same layout: 0.99609 copies per token to the other node,
    4,096 x 0.99609 x 7,168 x (1.03125 + 2) = 88,650,240 B / 43e9 = 2,061.6 us, + 48 us
    (inside the node 2.82 copies at 344 GB/s take 730 us, less):

    >>> t = all_to_all_time_s(4096, 7168, 8, 16, 8, 450e9 * 0.765, 50e9 * 0.86, False)
    >>> round(t * 1e6, 1)
    2109.6
    """
    if ep <= 1 or tokens <= 0:
        return 0.0
    intra, inter = token_copies(top_k, ep, devices_per_node, low_latency)
    t = 0.0
    for per_element in (DISPATCH_BYTES_PER_ELEMENT, COMBINE_BYTES_PER_ELEMENT):
        per_copy = tokens * hidden * per_element
        over_nvlink = per_copy * intra / nvlink_bytes_per_s if intra else 0.0
        over_rdma = per_copy * inter / rdma_bytes_per_s if inter else 0.0
        t += latency_s + max(over_nvlink, over_rdma)
    return t


def load_imbalance(assignments: float, ep: int) -> float:
    """Busiest device's share over the mean, for ``assignments`` token-to-expert
    assignments spread uniformly over ``ep`` devices: ``1 + sqrt(2 ln(ep) (1 - 1/ep) / m)``
    with ``m = assignments / ep``, at most ``ep`` (all of them on one device).

    Hand check: 1,024 assignments (128 tokens, top-8) over 8 devices, m = 128:
    1 + sqrt(2 x 2.0794 x 0.875 / 128) = 1.1686.

    >>> round(load_imbalance(1024, 8), 4)
    1.1686
    >>> load_imbalance(1024, 1)
    1.0
    """
    if ep <= 1 or assignments <= 0:
        return 1.0
    m = assignments / ep
    return min(float(ep), 1.0 + math.sqrt(2.0 * math.log(ep) * (1.0 - 1.0 / ep) / m))


def busiest_rank_experts(
    tokens: float, num_experts: int, top_k: int, ep: int, slots: int | None = None
) -> tuple[float, float]:
    """(assignments, experts touched) on the busiest of ``ep`` devices for ``tokens`` tokens.

    Its assignments are ``load_imbalance x T k / ep``; spread over its ``slots`` experts
    (``ceil(E / ep)`` by default), it reads ``E_r (1 - (1 - 1/E_r)^a)`` of them (each
    assignment lands on one of its experts uniformly). Hand check, 128 tokens top-8 over
    256 experts at EP 8:
    a = 1.1686 x 128 = 149.58; 32 x (1 - (31/32)^149.58) = 32 x (1 - e^-4.749) = 31.72.

    >>> a, touched = busiest_rank_experts(128, 256, 8, 8)
    >>> round(a, 1), round(touched, 2)
    (149.6, 31.72)
    """
    if tokens <= 0:
        return 0.0, 0.0
    assignments = tokens * top_k
    a = load_imbalance(assignments, ep) * assignments / ep
    e_r = slots or experts_per_rank(num_experts, ep)
    a = min(a, tokens * min(top_k, e_r))
    touched = e_r * (1.0 - (1.0 - 1.0 / e_r) ** a) if e_r > 1 else 1.0
    return a, touched


__all__ = [
    "A2A_LATENCY_S",
    "A2A_NVLINK_EFFICIENCY",
    "A2A_RDMA_EFFICIENCY",
    "COMBINE_BYTES_PER_ELEMENT",
    "DISPATCH_BYTES_PER_ELEMENT",
    "all_to_all_time_s",
    "busiest_rank_experts",
    "experts_per_rank",
    "load_imbalance",
    "peer_shares",
    "token_copies",
]
