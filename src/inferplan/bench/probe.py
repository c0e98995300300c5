"""Before the load: fit prompt lengths to the server's tokenizer, check token counts.

Two unstreamed requests whose prompts differ in word count give
``prompt_tokens = overhead + tokens_per_word x words`` from the server's own
``usage`` (the overhead is the chat template); see
:func:`inferplan.bench.prompts.fit_prompt_calibration`. With temperature 0 the
first request is then streamed again (the "twin"): its chunk count must equal
the unstreamed ``usage.completion_tokens`` when each chunk carries one token,
which tells whether the client's chunk count can stand in for a server that
streams no usage.
"""

from __future__ import annotations

import httpx

from inferplan.bench.client import PlannedRequest, StreamClient, send_unstreamed
from inferplan.bench.prompts import LengthDist, PromptFactory, fit_prompt_calibration
from inferplan.bench.results import Phase, RequestRecord
from inferplan.errors import BenchmarkError


async def calibrate_prompts(
    client: StreamClient,
    http: httpx.AsyncClient,
    factory: PromptFactory,
    isl_text: str,
    osl_text: str,
    warnings: list[str],
) -> dict[str, float]:
    """Fit ``factory``'s prompt calibration and check streamed chunk counts.

    Returns the calibration and twin-check figures written to ``run.json``;
    appends human-readable findings to ``warnings``. Raises
    :class:`BenchmarkError` when the server cannot be reached at all.
    """
    settings = client.settings
    isl = LengthDist.parse("isl", isl_text).mean
    w1 = factory.calibration.words_for(round(isl))
    w2 = max(1, w1 // 2) if w1 > 2 else w1 + 8
    osl = max(2, min(16, round(LengthDist.parse("osl", osl_text).mean)))
    probes = [factory.make(-1 - i, phase=Phase.WARMUP, output_tokens=osl) for i in range(2)]
    probes = [
        PlannedRequest(
            request_id=p.request_id,
            prompt=" ".join(p.prompt.split()[:w]),
            max_tokens=osl,
            prompt_words=w,
            phase=Phase.WARMUP,
        )
        for p, w in zip(probes, (w1, w2), strict=True)
    ]
    samples: list[tuple[int, int]] = []
    usage: list[dict[str, int]] = []
    for probe in probes:
        try:
            u = await send_unstreamed(settings, http, probe)
        except httpx.ConnectError as exc:
            raise BenchmarkError(f"url: cannot connect to {settings.base_url} ({exc})") from None
        except (httpx.HTTPError, ValueError) as exc:
            warnings.append(f"prompt calibration skipped: {exc}")
            return {}
        usage.append(u)
        samples.append((probe.prompt_words, u["prompt_tokens"]))
    cal = fit_prompt_calibration(samples)
    factory.calibration = cal
    if cal.overhead_tokens > 0.5 * isl:
        warnings.append(
            f"the server adds {cal.overhead_tokens:.0f} prompt tokens of its own (chat template) "
            f"to every request; an input length of {isl:.0f} leaves little room for the prompt"
        )
    out = {
        "tokens_per_word": cal.tokens_per_word,
        "overhead_tokens": cal.overhead_tokens,
        "samples": float(cal.samples),
    }
    if settings.temperature == 0.0:
        twin = RequestRecord(request_id=-1, phase=Phase.WARMUP)
        await client.send(probes[0], twin)
        if twin.ok:
            out["twin_unstreamed_completion_tokens"] = float(usage[0]["completion_tokens"])
            out["twin_streamed_chunks"] = float(len(twin.token_times_s))
            out["twin_stream_reports_usage"] = float(twin.output_tokens_source != "client_chunks")
            if usage[0]["completion_tokens"] != len(twin.token_times_s):
                warnings.append(
                    f"a deterministic request streamed {len(twin.token_times_s)} chunks for "
                    f"{usage[0]['completion_tokens']} tokens: chunks carry several tokens"
                )
    return out
