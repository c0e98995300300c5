"""The planner: search deployments, size and price them, and defend one choice."""
