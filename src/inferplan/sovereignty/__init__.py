"""Data sovereignty and compliance: rules, evaluation, scores and compliance cost."""

from __future__ import annotations

from inferplan.sovereignty.country_rules import COUNTRY_RULES, CountryRule, applicable_rules
from inferplan.sovereignty.evaluate import (
    ComplianceCost,
    CostDriver,
    ProviderLookup,
    SovereigntyResult,
    compliance_overheads,
    evaluate,
    legal_sovereignty,
    operational_sovereignty,
    resolve_hosts,
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
    "COUNTRY_RULES",
    "RULES",
    "ComplianceCost",
    "CostDriver",
    "CountryRule",
    "Finding",
    "ProviderLookup",
    "Rule",
    "Severity",
    "SovereigntyResult",
    "SovereigntyTarget",
    "applicable_rules",
    "compliance_overheads",
    "evaluate",
    "legal_sovereignty",
    "operational_sovereignty",
    "resolve_hosts",
    "resolve_provider",
    "target_location",
]
