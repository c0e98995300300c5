"""Data sovereignty and compliance: rules, evaluation, scores and compliance cost."""

from __future__ import annotations

from inferplan.sovereignty.evaluate import (
    ComplianceCost,
    CostDriver,
    ProviderLookup,
    SovereigntyResult,
    compliance_overheads,
    evaluate,
    legal_sovereignty,
    operational_sovereignty,
    resolve_provider,
)
from inferplan.sovereignty.rules import (
    RULES,
    Finding,
    Rule,
    Severity,
    SovereigntyTarget,
    target_location,
)

__all__ = [
    "RULES",
    "ComplianceCost",
    "CostDriver",
    "Finding",
    "ProviderLookup",
    "Rule",
    "Severity",
    "SovereigntyResult",
    "SovereigntyTarget",
    "compliance_overheads",
    "evaluate",
    "legal_sovereignty",
    "operational_sovereignty",
    "resolve_provider",
    "target_location",
]
