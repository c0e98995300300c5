"""The settings of one benchmark run, validated in one place (times in s)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

from inferplan.bench.client import Endpoint
from inferplan.bench.loadgen import Arrival, Profile, StagePlan
from inferplan.bench.prompts import LengthDist, TraceEntry
from inferplan.errors import SpecError

DEFAULT_MAX_REQUESTS = 100
"""Requests per stage when neither a request count, a duration nor a trace bounds it."""


def normalise_base_url(url: str) -> str:
    """``http(s)://host[:port][/prefix]`` without a trailing ``/v1`` or slash.

    >>> normalise_base_url("http://127.0.0.1:8000/v1/")
    'http://127.0.0.1:8000'
    """
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SpecError(
            "url",
            f"'{url}' is not a server URL; allowed: http(s)://HOST:PORT/v1 (port and /v1 optional)",
        )
    try:
        _ = parts.port
    except ValueError:
        raise SpecError("url", f"'{url}' has an invalid port; allowed: 1-65535") from None
    path = parts.path.rstrip("/")
    if path.endswith("/v1"):
        path = path[: -len("/v1")]
    return f"{parts.scheme}://{parts.netloc}{path}"


class BenchConfig(BaseModel):
    """Everything ``inferplan bench`` needs to run (user input, validated)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    model: str | None = None
    api_key_env: str | None = None
    endpoint: Endpoint = Endpoint.CHAT
    engine: str | None = Field(default=None, description="override the detected engine")
    concurrency: tuple[int, ...] | None = None
    rate: tuple[float, ...] | None = None
    arrival: Arrival = Arrival.POISSON
    gamma_shape: float = Field(default=1.0, gt=0)
    max_concurrency: int | None = Field(default=None, ge=1)
    trace: Path | None = None
    trace_speedup: float = Field(default=1.0, gt=0)
    max_requests: int | None = Field(default=None, ge=1)
    duration_s: float | None = Field(default=None, gt=0)
    warmup: int = Field(default=2, ge=0)
    isl: str = "128"
    osl: str = "128"
    shared_prefix_tokens: int = Field(default=0, ge=0)
    ignore_eos: Literal["auto", "on", "off"] = "auto"
    include_usage: bool = True
    temperature: float | None = Field(default=0.0, ge=0)
    timeout_s: float = Field(default=120.0, gt=0)
    connect_timeout_s: float = Field(default=10.0, gt=0)
    output_dir: Path | None = None
    seed: int = 0
    slo_ttft_s: float | None = Field(default=None, gt=0)
    slo_tpot_s: float | None = Field(default=None, gt=0)
    slo_e2e_s: float | None = Field(default=None, gt=0)
    scrape_metrics: bool = True
    calibrate_prompts: bool = True
    abort_after_connect_errors: int = Field(default=5, ge=0)
    extra_body: dict[str, Any] = Field(default_factory=dict)

    def check(self) -> None:
        """Cross-field rules; a violation raises :class:`SpecError` naming the option."""
        normalise_base_url(self.url)
        if self.concurrency is not None and self.rate is not None:
            raise SpecError("rate", "give --concurrency or --rate, not both")
        if self.trace is not None and (self.concurrency is not None or self.rate is not None):
            raise SpecError("trace", "a trace sets its own timing; drop --concurrency/--rate")
        if self.concurrency is not None and (
            not self.concurrency or any(c < 1 for c in self.concurrency)
        ):
            raise SpecError("concurrency", "allowed: integers >= 1, e.g. 4 or 1,2,4,8")
        if self.rate is not None and (not self.rate or any(not r > 0 for r in self.rate)):
            raise SpecError("rate", "allowed: request rates > 0 per s, e.g. 2 or 1,2,4")
        LengthDist.parse("isl", self.isl)
        LengthDist.parse("osl", self.osl)
        if self.api_key_env is not None and not os.environ.get(self.api_key_env):
            raise SpecError("api_key_env", f"environment variable {self.api_key_env} is not set")
        if self.trace is not None and not self.trace.is_file():
            raise SpecError("trace", f"{self.trace} is not a file")

    @property
    def base_url(self) -> str:
        return normalise_base_url(self.url)

    @property
    def api_key(self) -> str | None:
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    @property
    def profile(self) -> Profile:
        """The load profile the options describe."""
        if self.trace is not None:
            return Profile.TRACE
        if self.rate is not None:
            return Profile.RATE
        if self.concurrency is None or self.concurrency == (1,):
            return Profile.SYNCHRONOUS
        return Profile.CONCURRENCY

    @property
    def stage_limit(self) -> int | None:
        """Request limit per stage (the default applies when nothing else bounds it)."""
        if self.max_requests is None and self.duration_s is None and self.trace is None:
            return DEFAULT_MAX_REQUESTS
        return self.max_requests

    def public_dict(self) -> dict[str, Any]:
        """The settings as written into results (no secrets: only the variable name)."""
        data = self.model_dump(mode="json")
        data["profile"] = self.profile.value
        data["max_requests_per_stage"] = self.stage_limit
        return data


def plan_stages(config: BenchConfig, trace: list[TraceEntry] | None) -> list[StagePlan]:
    """One :class:`StagePlan` per load level of ``config``."""
    limit, duration = config.stage_limit, config.duration_s
    profile = config.profile
    if profile is Profile.TRACE and trace is not None:
        return [
            StagePlan(
                stage=0,
                profile=profile,
                trace=tuple(trace),
                trace_speedup=config.trace_speedup,
                max_concurrency=config.max_concurrency,
                max_requests=limit,
                duration_s=duration,
            )
        ]
    if profile is Profile.RATE and config.rate is not None:
        return [
            StagePlan(
                stage=i,
                profile=profile,
                rate_req_per_s=r,
                arrival=config.arrival,
                gamma_shape=config.gamma_shape,
                max_concurrency=config.max_concurrency,
                max_requests=limit,
                duration_s=duration,
            )
            for i, r in enumerate(config.rate)
        ]
    levels = config.concurrency or (1,)
    return [
        StagePlan(
            stage=i,
            profile=Profile.SYNCHRONOUS if c == 1 else Profile.CONCURRENCY,
            concurrency=c,
            max_requests=limit,
            duration_s=duration,
        )
        for i, c in enumerate(levels)
    ]
