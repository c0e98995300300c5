"""A deployment's disaggregated prefill and decode pools: the KV link between them and
their steady state, one rule for ``inferplan perf --disagg`` and the planner's
disaggregated units.

Both pools run ``d``'s replica layout (same devices, parallelism and engine); each
request's KV moves over the accelerator's interconnect, one link per transfer at the
engine's ``comm_efficiency`` (:mod:`inferplan.perf.disagg`).
"""

from __future__ import annotations

from dataclasses import replace

from inferplan.deploy.deployment import Deployment
from inferplan.perf.batch import SchedulerLimits
from inferplan.perf.disagg import DisaggResult, disaggregated
from inferplan.perf.step import StepModel


def kv_link_bytes_per_s(d: Deployment) -> float:
    """Bandwidth one KV transfer gets between pools in a node: the accelerator's
    interconnect at the engine's ``comm_efficiency``."""
    eff = d.efficiency or d.engine.efficiency
    return d.accelerator.interconnect_bandwidth_bytes_per_s * eff.comm_efficiency


def disagg_steady(
    d: Deployment,
    step: StepModel,
    limits: SchedulerLimits,
    isl: int,
    osl: int,
    batch: int,
    prefill_limits: SchedulerLimits | None = None,
) -> DisaggResult:
    """:func:`~inferplan.perf.disagg.disaggregated` for ``d``'s layout in both pools, the
    decode pool running at most ``batch`` sequences, the prefill pool under
    ``prefill_limits`` (default ``limits``: as many whole prompts per step as the token
    budget holds); each replica has ``d``'s devices (tp x attention groups x pp)."""
    devices = d.devices_per_replica
    return disaggregated(
        step,
        step,
        prefill_limits or limits,
        replace(limits, max_num_seqs=max(1, batch)),
        isl,
        osl,
        step.kv_bytes_per_token_dev * d.tp,
        kv_link_bytes_per_s(d),
        devices,
        devices,
    )


__all__ = ["disagg_steady", "kv_link_bytes_per_s"]
