"""Synthetic prompts with a target token length that do not hit the prefix cache.

No tokenizer is needed: prompts are random sequences of common lowercase English
words, which byte-pair vocabularies of 32k-150k entries hold as one token each
with their leading space (checked on SmolLM2's tokenizer: 5 such words added 5
prompt tokens). The words-per-token ratio and the fixed overhead of the chat
template are then fitted at run time from the server's own ``usage.prompt_tokens``
(:func:`fit_prompt_calibration`), and every record keeps the server-reported
count next to the target.

Cache busting: each prompt is drawn from its own seeded generator, so two prompts
differ within their first words; prefix caches match whole blocks (vLLM's default
block is 16 tokens, https://docs.vllm.ai/en/latest/design/prefix_caching.html),
so a match by chance needs 16 equal leading words (probability 256^-16). A shared
prefix of a given token length is an explicit option.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

from inferplan.bench.client import PlannedRequest
from inferplan.bench.results import Phase
from inferplan.errors import SpecError

VOCABULARY = tuple(
    """
    time year people way day man thing woman life child world school state family
    student group country problem hand part place case week company system program
    question work government number night point home water room mother area money
    story fact month lot right study book eye job word business issue side kind head
    house service friend father power hour game line end member law car city name
    president team minute idea kid body back parent face others level office door
    health person art war history party result change morning reason research girl
    guy moment air teacher force order river stone apple table green blue red black
    white light dark small large long short high low early late young old good new
    first last great little own other right big public bad same able open close
    run walk talk read write sing play move live stand sit turn start stop show hear
    see look find give tell call try ask need feel become leave put mean keep let
    begin seem help carry bring hold follow set learn watch lead understand grow
    offer remember love consider appear buy wait serve die send build stay fall cut
    reach kill raise pass sell decide return explain hope develop report rest tree
    bird fish dog cat horse cow sun moon star sky rain snow wind fire earth sea hill
    field road bridge garden window wall floor bed chair glass paper letter song
    music picture color shape sound voice heart mind dream plan rule test class
    """.split()  # noqa: SIM905
)

DEFAULT_TOKENS_PER_WORD = 1.0
"""Prompt tokens per vocabulary word before calibration (see the module docstring)."""


class LengthDist:
    """A token-length distribution: ``N``, ``uniform:LO,HI``, ``normal:MEAN,SD``,
    ``lognormal:MEAN,SD`` (mean and standard deviation of the lengths themselves).

    Samples are integers clipped to ``[1, max]``.

    >>> LengthDist.parse("osl", "128").sample(random.Random(0))
    128
    """

    KINDS = ("fixed", "uniform", "normal", "lognormal")
    ALLOWED = "N, uniform:LO,HI, normal:MEAN,SD or lognormal:MEAN,SD (positive numbers)"

    def __init__(self, kind: str, a: float, b: float = 0.0, upper: int = 1_000_000) -> None:
        self.kind = kind
        self.a = a
        self.b = b
        self.upper = upper

    @classmethod
    def parse(cls, field: str, text: str) -> LengthDist:
        """Parse ``text``; a bad value raises :class:`SpecError` naming ``field``."""
        raw = text.strip().lower()
        kind, sep, params = raw.partition(":")
        try:
            if not sep:
                value = int(raw)
                if value < 1:
                    raise ValueError
                return cls("fixed", float(value))
            a_s, b_s = params.split(",")
            a, b = float(a_s), float(b_s)
        except ValueError:
            raise SpecError(field, f"'{text}' is not a length; allowed: {cls.ALLOWED}") from None
        if kind not in cls.KINDS[1:] or a <= 0 or b < 0 or (kind == "uniform" and b < a):
            raise SpecError(field, f"'{text}' is not a length; allowed: {cls.ALLOWED}")
        return cls(kind, a, b)

    @property
    def mean(self) -> float:
        """Mean length before clipping."""
        return (self.a + self.b) / 2 if self.kind == "uniform" else self.a

    def sample(self, rng: random.Random) -> int:
        """One length drawn with ``rng``."""
        if self.kind == "fixed":
            value = self.a
        elif self.kind == "uniform":
            value = rng.uniform(self.a, self.b)
        elif self.kind == "normal":
            value = rng.gauss(self.a, self.b)
        else:
            # lognormal with the given mean m and sd s of the variable itself:
            # sigma^2 = ln(1 + s^2/m^2), mu = ln m - sigma^2/2 (moments of the lognormal,
            # NIST/SEMATECH e-Handbook of Statistical Methods, 1.3.6.6.9)
            sigma2 = math.log(1.0 + (self.b / self.a) ** 2)
            value = rng.lognormvariate(math.log(self.a) - sigma2 / 2, math.sqrt(sigma2))
        return int(min(self.upper, max(1, round(value))))

    def describe(self) -> str:
        """The spelling :meth:`parse` accepts."""
        return f"{int(self.a)}" if self.kind == "fixed" else f"{self.kind}:{self.a:g},{self.b:g}"


@dataclass(frozen=True)
class PromptCalibration:
    """prompt_tokens = overhead_tokens + tokens_per_word * words (fitted)."""

    tokens_per_word: float = DEFAULT_TOKENS_PER_WORD
    overhead_tokens: float = 0.0
    samples: int = 0

    def words_for(self, tokens: int) -> int:
        """Words needed for ``tokens`` prompt tokens (at least 1)."""
        return max(1, round((tokens - self.overhead_tokens) / self.tokens_per_word))

    def estimate_tokens(self, words: int) -> int:
        """Prompt tokens expected for ``words`` words."""
        return round(self.overhead_tokens + self.tokens_per_word * words)


def fit_prompt_calibration(samples: list[tuple[int, int]]) -> PromptCalibration:
    """Least-squares line through ``(words, prompt_tokens)`` pairs.

    With one distinct word count only the ratio is fitted (overhead 0).
    """
    pts = [(float(w), float(t)) for w, t in samples if w > 0 and t > 0]
    if not pts:
        return PromptCalibration()
    xs = {w for w, _ in pts}
    n = len(pts)
    if len(xs) < 2:
        ratio = sum(t for _, t in pts) / sum(w for w, _ in pts)
        return PromptCalibration(tokens_per_word=ratio, overhead_tokens=0.0, samples=n)
    mx = sum(w for w, _ in pts) / n
    my = sum(t for _, t in pts) / n
    sxx = sum((w - mx) ** 2 for w, _ in pts)
    sxy = sum((w - mx) * (t - my) for w, t in pts)
    slope = sxy / sxx
    if slope <= 0:
        return PromptCalibration(samples=n)
    return PromptCalibration(
        tokens_per_word=slope, overhead_tokens=max(0.0, my - slope * mx), samples=n
    )


class PromptFactory:
    """Makes :class:`PlannedRequest` objects reproducibly from ``seed``."""

    def __init__(
        self,
        isl: LengthDist,
        osl: LengthDist,
        seed: int = 0,
        shared_prefix_tokens: int = 0,
        calibration: PromptCalibration | None = None,
    ) -> None:
        self.isl = isl
        self.osl = osl
        self.seed = seed
        self.shared_prefix_tokens = shared_prefix_tokens
        self.calibration = calibration or PromptCalibration()

    def _words(self, rng: random.Random, count: int) -> str:
        return " ".join(rng.choices(VOCABULARY, k=count))

    def shared_prefix(self) -> tuple[str, int]:
        """The prefix every prompt starts with (empty unless asked) and its word count."""
        if self.shared_prefix_tokens <= 0:
            return "", 0
        words = max(1, round(self.shared_prefix_tokens / self.calibration.tokens_per_word))
        return self._words(random.Random(f"{self.seed}:prefix"), words), words

    def make(
        self,
        request_id: int,
        stage: int = 0,
        phase: Phase = Phase.MEASURE,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
    ) -> PlannedRequest:
        """The request with id ``request_id`` (lengths drawn unless given)."""
        rng = random.Random(f"{self.seed}:{request_id}")
        isl = input_tokens if input_tokens is not None else self.isl.sample(rng)
        osl = output_tokens if output_tokens is not None else self.osl.sample(rng)
        total_words = self.calibration.words_for(isl)
        prefix, prefix_words = self.shared_prefix()
        own_words = max(1, total_words - prefix_words)
        body = self._words(rng, own_words)
        prompt = f"{prefix} {body}" if prefix else body
        return PlannedRequest(
            request_id=request_id,
            prompt=prompt,
            max_tokens=max(1, osl),
            prompt_words=own_words + prefix_words,
            requested_input_tokens=isl,
            stage=stage,
            phase=phase,
        )


@dataclass(frozen=True)
class TraceEntry:
    """One request of a replayed trace: when (s from the trace start) and how long."""

    timestamp_s: float
    input_tokens: int
    output_tokens: int


TRACE_FORMAT = (
    "JSON lines or CSV with timestamp_s, input_tokens, output_tokens "
    "(non-negative timestamps in s, lengths >= 1)"
)


MAX_TRACE_BYTES = 256 * 2**20
"""Largest trace file read (256 MiB, millions of requests)."""


def load_trace(path: Path, field: str = "trace") -> list[TraceEntry]:
    """Read a trace file (:data:`TRACE_FORMAT`), sorted by time, starting at 0."""
    from inferplan.catalog.loader import decode_text
    from inferplan.errors import CatalogError

    try:
        size = path.stat().st_size
        if size > MAX_TRACE_BYTES:
            raise SpecError(field, f"{path}: {size:,} bytes is over the limit of "
                            f"{MAX_TRACE_BYTES:,} bytes")
        text = decode_text(path.read_bytes(), str(path), MAX_TRACE_BYTES)
    except OSError as exc:
        raise SpecError(field, f"cannot read {path} ({exc.strerror})") from None
    except CatalogError as exc:
        raise SpecError(field, str(exc)) from None
    rows: list[dict[str, object]] = []
    try:
        if path.suffix.lower() == ".csv":
            rows = list(csv.DictReader(text.splitlines()))
        else:
            rows = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        entries = [
            TraceEntry(
                float(str(r["timestamp_s"])),
                int(str(r["input_tokens"])),
                int(str(r["output_tokens"])),
            )
            for r in rows
        ]
    except (ValueError, KeyError, TypeError, OverflowError):
        raise SpecError(field, f"{path} is not a trace; expected {TRACE_FORMAT}") from None
    if any(not math.isfinite(e.timestamp_s) for e in entries):
        raise SpecError(field, f"{path} has a time that is not a finite number; {TRACE_FORMAT}")
    if not entries:
        raise SpecError(field, f"{path} holds no requests; expected {TRACE_FORMAT}")
    if any(e.timestamp_s < 0 or e.input_tokens < 1 or e.output_tokens < 1 for e in entries):
        raise SpecError(field, f"{path} has a negative time or a length < 1; {TRACE_FORMAT}")
    entries.sort(key=lambda e: e.timestamp_s)
    t0 = entries[0].timestamp_s
    return [TraceEntry(e.timestamp_s - t0, e.input_tokens, e.output_tokens) for e in entries]
