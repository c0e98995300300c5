"""Scale-out links between nodes: the bandwidth one GPU's share of the node's NICs gives.

Tensor parallelism inside a node runs over the accelerator's own interconnect (NVLink,
Infinity Fabric: ``AcceleratorSpec.interconnect_bandwidth_bytes_per_s``); a tensor-parallel
group or a pipeline that spans nodes crosses the scale-out network, one NIC per GPU in the
reference designs:

* InfiniBand NDR / 400 GbE RoCE: 400 Gb/s = 50 GB/s per direction per GPU (NVIDIA DGX H100:
  eight single-port ConnectX-7 400 Gb/s adapters for eight GPUs, DGX H100 datasheet);
* InfiniBand HDR / 200 GbE RoCE: 200 Gb/s = 25 GB/s (NVIDIA DGX A100: eight single-port
  ConnectX-6 200 Gb/s HDR adapters for eight GPUs, DGX A100 datasheet).

``DEFAULT_LINK`` (NDR) is used when a deployment names none.
"""

from __future__ import annotations

from dataclasses import dataclass

from inferplan.errors import SpecError


@dataclass(frozen=True, slots=True)
class ScaleOutLink:
    """One GPU's share of the inter-node network, bytes per second per direction."""

    name: str
    bandwidth_bytes_per_s: float
    source: str


LINKS: dict[str, ScaleOutLink] = {
    "ib-ndr": ScaleOutLink("InfiniBand NDR 400 Gb/s", 50e9, "NVIDIA DGX H100 datasheet"),
    "roce-400g": ScaleOutLink("RoCE 400 GbE", 50e9, "400 Gb/s line rate"),
    "ib-hdr": ScaleOutLink("InfiniBand HDR 200 Gb/s", 25e9, "NVIDIA DGX A100 datasheet"),
    "roce-200g": ScaleOutLink("RoCE 200 GbE", 25e9, "200 Gb/s line rate"),
}
DEFAULT_LINK = "ib-ndr"


def scale_out_link(name: str = DEFAULT_LINK) -> ScaleOutLink:
    """The scale-out link ``name`` (``ib-ndr``, ``roce-400g``, ``ib-hdr``, ``roce-200g``)."""
    found = LINKS.get(name.strip().lower())
    if found is None:
        raise SpecError("link", f"unknown scale-out link {name!r}; known: {', '.join(LINKS)}")
    return found
