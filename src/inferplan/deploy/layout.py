"""Devices into replicas: the (tensor, pipeline) layout of a deployment.

One rule for every face (``inferplan fit``/``perf``, the Python API): without an
explicit ``tp``/``pp``, a count up to one node is tensor parallel inside the node,
and a larger count is whole nodes in pipeline stages.
"""

from __future__ import annotations

from dataclasses import replace

from inferplan.deploy.deployment import Deployment
from inferplan.errors import SpecError


def layout_of(
    count: int | None, tp: int | None, pp: int | None, node: int
) -> tuple[int, int] | None:
    """(tp, pp) of one replica, or None (the fewest devices that fit) when nothing is given.

    >>> layout_of(4, None, None, 8)
    (4, 1)
    >>> layout_of(16, None, None, 8)
    (8, 2)
    >>> layout_of(None, None, None, 8) is None
    True
    """
    if count is not None and count < 1:
        raise SpecError("count", "must be >= 1")
    if tp is not None and tp < 1:
        raise SpecError("tp", "must be >= 1")
    if pp is not None and pp < 1:
        raise SpecError("pp", "must be >= 1")
    if tp is None and pp is None:
        if count is None:
            return None
        if count <= node:
            return count, 1
        if count % node:
            raise SpecError("count", f"{count} devices do not split into nodes of {node}")
        return node, count // node
    t, p = tp or 1, pp or 1
    if count is not None and t * p != count:
        raise SpecError("count", f"must equal tp x pp = {t * p}")
    return t, p


def with_replicas(d: Deployment, count: int | None, tp: int | None, pp: int | None) -> Deployment:
    """``d`` laid out on ``count`` devices: replicas of one node's worth (or of tp x pp).

    >>> from inferplan.deploy.deployment import resolve
    >>> r = with_replicas(resolve("llama-3.1-8b", "h100-sxm-80gb"), 16, 2, None)
    >>> (r.tp, r.pp, r.replicas)
    (2, 1, 8)
    """
    node = d.accelerator.max_devices_per_node
    total = count or (tp or 1) * (pp or 1)
    if tp is None and pp is None:
        layout = layout_of(min(total, node), None, None, node)
    else:
        layout = layout_of(None, tp, pp, node)
    assert layout is not None
    group = layout[0] * layout[1]
    if total % group:
        raise SpecError("count", f"{total} devices do not split into replicas of {group}")
    return replace(d, tp=layout[0], pp=layout[1], replicas=total // group)


__all__ = ["layout_of", "with_replicas"]
