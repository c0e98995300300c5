"""inferplan: plan LLM inference deployments.

Size (memory fit), predict (latency and throughput), price (TCO), govern (data
sovereignty), recommend (Pareto search) and prove (benchmark and calibrate).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
