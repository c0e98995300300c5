"""Dataset lengths: published figures, the distribution each one gives, names in free text."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pydantic import ValidationError

from inferplan.catalog.datasets import get_dataset, load_datasets
from inferplan.errors import SpecError
from inferplan.perf.datasets import (
    dataset_lengths,
    dataset_named_in,
    dataset_workload,
    length_distribution,
    p90_of,
)
from inferplan.perf.workload import FixedLength, LognormalLength, draw_requests
from inferplan.specs.dataset import DatasetSpec, LengthStats

# --- each shipped dataset, pinned to its source's figure --------------------------------


def test_sharegpt_is_the_vllm_papers_means_as_fixed_lengths() -> None:
    # Kwon et al. 2023 (arXiv:2309.06180) sec. 6.1, Fig. 11: ShareGPT 161.31 in / 337.99 out
    d = dataset_lengths(get_dataset("sharegpt_v3"))
    assert (d.isl_mean, d.osl_mean) == (161.31, 337.99)
    assert d.isl == FixedLength(value=161) and d.osl == FixedLength(value=338)
    assert d.isl_basis == d.osl_basis == "mean only: fixed lengths"


def test_alpaca_is_the_vllm_papers_means() -> None:
    # Kwon et al. 2023 (arXiv:2309.06180) Fig. 11: Alpaca 19.31 in / 58.45 out
    d = dataset_lengths(get_dataset("Alpaca"))
    assert (d.isl_mean, d.osl_mean) == (19.31, 58.45)


def test_lmsys_chat_1m_is_its_papers_table_1() -> None:
    # Zheng et al. 2023 (arXiv:2309.11998) Table 1: 69.5 tokens per prompt, 214.5 per response
    spec = get_dataset("LMSYS-Chat-1M")
    d = dataset_lengths(spec)
    assert (d.isl_mean, d.osl_mean) == (69.5, 214.5)
    assert spec.samples == 1_000_000


@pytest.mark.parametrize(
    ("name", "isl", "osl"),
    [
        # Patel et al., Splitwise (arXiv:2311.18677) sec. III-A: coding medians 1500 / 13,
        # conversation medians 1020 / 129 tokens
        ("splitwise-code", 1500, 13),
        ("azure-conversation", 1020, 129),
    ],
)
def test_azure_traces_are_splitwise_medians_flagged(name: str, isl: int, osl: int) -> None:
    d = dataset_lengths(get_dataset(name))
    assert (d.isl, d.osl) == (FixedLength(value=isl), FixedLength(value=osl))
    assert "median only" in d.isl_basis and "mean not published" in d.osl_basis


def test_longbench_words_are_converted_at_the_cited_ratio_and_output_is_the_cap() -> None:
    # LongBench task.md: GovReport averages 8,734 words; config/dataset2maxlen.json caps its
    # output at 512 tokens. OpenAI: 100 tokens ~ 75 words -> 1.3333 tokens per word.
    # By hand: 8,734 x 1.3333 = 11,645.0 tokens.
    d = dataset_lengths(get_dataset("LongBench GovReport"))
    assert d.isl_mean == pytest.approx(11_645.0, abs=0.1)
    assert d.isl == FixedLength(value=11_645)
    assert "words x 1.3333 tokens/word" in d.isl_basis
    assert d.osl == FixedLength(value=512) and "generation cap" in d.osl_basis


def test_every_shipped_dataset_gives_lengths_and_a_source() -> None:
    for spec in load_datasets():
        d = dataset_lengths(spec)
        assert d.isl_mean >= 1 and d.osl_mean >= 1
        assert spec.source in d.describe()


# --- the distribution each set of published figures gives ------------------------------


def test_mean_and_median_give_a_lognormal_with_both() -> None:
    # median = e^mu, mean = e^(mu + s^2/2): mean 1,000, median 600 -> s^2 = 2 ln(1000/600)
    # = 1.0217, s = 1.0108; mu = ln 600 = 6.3969
    spec, basis = length_distribution(LengthStats(mean=1000, median=600))
    assert isinstance(spec, LognormalLength) and basis == "lognormal matched to mean and median"
    assert spec.shape_sigma == pytest.approx(1.0108, abs=1e-4)
    draws = spec.sample(np.random.default_rng(0), 400_000)
    assert float(np.median(draws)) == pytest.approx(600, rel=0.02)
    assert float(draws.mean()) == pytest.approx(1000, rel=0.02)


def test_median_and_p90_give_a_lognormal_with_both() -> None:
    # p90 = median e^(z90 s): p90 twice the median -> s = ln 2 / 1.2816 = 0.5408,
    # mean = median e^(s^2/2) = 500 x 1.1574 = 578.7
    spec, basis = length_distribution(LengthStats(median=500, p90=1000))
    assert isinstance(spec, LognormalLength) and "median and p90" in basis
    assert spec.shape_sigma == pytest.approx(0.5408, abs=1e-4)
    assert spec.mean == pytest.approx(578.7, abs=0.1)
    assert p90_of(spec) == pytest.approx(1000, rel=1e-3)


def test_mean_and_std_use_the_lognormal_of_that_spread_clipped_at_the_max() -> None:
    spec, basis = length_distribution(LengthStats(mean=300, std=200, max=1024))
    assert isinstance(spec, LognormalLength) and basis == "lognormal matched to mean and std"
    assert spec.std == 200 and spec.max == 1024
    assert int(spec.sample(np.random.default_rng(1), 50_000).max()) <= 1024


def test_a_mean_below_the_median_is_no_lognormal() -> None:
    spec, basis = length_distribution(LengthStats(mean=500, median=600))
    assert spec == FixedLength(value=500) and basis == "mean only: fixed lengths"


def test_dataset_workload_draws_from_the_distributions() -> None:
    w = dataset_workload(get_dataset("sharegpt"), seed=3)
    isl, osl = draw_requests(w, 5)
    assert isl.tolist() == [161] * 5 and osl.tolist() == [338] * 5


# --- records and names -------------------------------------------------------------------


def test_a_record_in_words_needs_its_conversion_source() -> None:
    with pytest.raises(ValidationError, match="tokens_per_word"):
        DatasetSpec(id="x", name="X", source="a paper", as_of="2024-01-01", tokenizer="none",
                    input=LengthStats(unit="words", mean=100), output=LengthStats(mean=10))


def test_a_figure_above_the_published_max_is_rejected() -> None:
    with pytest.raises(ValidationError, match="above max"):
        LengthStats(mean=2000, max=1024)


def test_unknown_dataset_is_one_error_listing_the_allowed_ids() -> None:
    with pytest.raises(SpecError, match="dataset: unknown dataset 'no-such-set'; allowed: ") as e:
        get_dataset("no-such-set")
    assert "sharegpt" in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("benchmark_serving on the Alpaca prompts", "alpaca"),
        ("ShareGPT_V3 1000 prompts", "sharegpt"),
        ("requests from LMSYS Chat 1M", "lmsys-chat-1m"),
        ("replayed the Splitwise conversation trace", "azure-conv-2023"),
        ("random 1000/1000 prompts", None),
        ("openchat sharegpt4 prompts", "openchat-sharegpt4"),
        ("Vidur LMSys-Chat-1M-4K trace", "lmsys-chat-1m-4k"),
    ],
)
def test_dataset_found_in_free_text(text: str, expected: str | None) -> None:
    found = dataset_named_in(text, load_datasets())
    assert (found.id if found else None) == expected


def test_lognormal_p90_is_none_for_fixed_lengths() -> None:
    assert p90_of(FixedLength(value=10)) is None
    assert math.isclose(p90_of(LognormalLength(mean=1000, sigma=1.0108)) or 0, 2191.5, rel_tol=1e-3)


def test_mooncake_is_its_papers_averages() -> None:
    # Qin et al., Mooncake (arXiv:2407.00079) sec. 4.2: average input 7,590, output 182 tokens
    # over 23,608 requests (sec. 4.1)
    spec = get_dataset("mooncake")
    d = dataset_lengths(spec)
    assert (d.isl_mean, d.osl_mean, spec.samples) == (7590, 182, 23_608)


def test_a_generation_cap_clips_a_lognormal_output() -> None:
    spec, _ = length_distribution(LengthStats(mean=300, median=200, max=512, max_is_cap=True))
    assert isinstance(spec, LognormalLength) and spec.max == 512
    assert int(spec.sample(np.random.default_rng(2), 50_000).max()) == 512


# --- sets with a published spread: Sarathi-Serve's Table 2 -------------------------------
# Agrawal et al., Taming Throughput-Latency Tradeoff in LLM Inference with Sarathi-Serve,
# OSDI 2024 (arXiv:2403.02310v3), Table 2 (PDF p. 10), tokens (LLaMA-2 tokenizer):
#   openchat_sharegpt4   prompt median 1730, P90 5696,  std 2088; output median 415, P90 834
#   arxiv_summarization  prompt median 7059, P90 12985, std 3638; output median 208, P90 371,
#                        std 265
# Requests over 8192 (openchat) / 16384 (arxiv) tokens in all are dropped: the max of each.


@pytest.mark.parametrize(
    ("name", "side", "figure", "value"),
    [
        ("openchat-sharegpt4", "input", "median", 1730),
        ("openchat-sharegpt4", "input", "p90", 5696),
        ("openchat-sharegpt4", "input", "std", 2088),
        ("openchat-sharegpt4", "input", "max", 8192),
        ("openchat-sharegpt4", "output", "median", 415),
        ("openchat-sharegpt4", "output", "p90", 834),
        ("openchat-sharegpt4", "output", "max", 8192),
        ("arxiv-summarization", "input", "median", 7059),
        ("arxiv-summarization", "input", "p90", 12985),
        ("arxiv-summarization", "input", "std", 3638),
        ("arxiv-summarization", "input", "max", 16384),
        ("arxiv-summarization", "output", "median", 208),
        ("arxiv-summarization", "output", "p90", 371),
        ("arxiv-summarization", "output", "std", 265),
        ("arxiv-summarization", "output", "max", 16384),
    ],
)
def test_sarathi_serve_table_2_figures(name: str, side: str, figure: str, value: int) -> None:
    stats = getattr(get_dataset(name), side)
    assert getattr(stats, figure) == value and stats.unit == "tokens" and stats.mean is None


def test_openchat_output_std_as_printed_is_left_out_as_impossible() -> None:
    # Table 2 prints output std 101 with median 415 and P90 834. |mean - median| <= std, so
    # mean <= 516; Cantelli: P(X >= 834) <= 101^2 / (101^2 + (834 - 516)^2) = 10201 / 111325
    # = 0.092 < 0.10, which contradicts P90 = 834. The record keeps median and P90 only.
    bound = 101**2 / (101**2 + (834 - (415 + 101)) ** 2)
    assert bound < 0.10
    assert get_dataset("openchat-sharegpt4").output.std is None


def test_openchat_sharegpt4_is_a_lognormal_of_median_and_p90_by_hand() -> None:
    # p90 = median e^(z90 s): prompt s = ln(5696/1730) / 1.2816 = 1.19163 / 1.2816 = 0.92980,
    # mean = 1730 e^(0.92980^2/2) = 1730 x e^0.43226 = 1730 x 1.54071 = 2665.4 tokens;
    # output s = ln(834/415) / 1.2816 = 0.69797 / 1.2816 = 0.54461,
    # mean = 415 e^(0.54461^2/2) = 415 x e^0.14830 = 415 x 1.15986 = 481.3 tokens.
    d = dataset_lengths(get_dataset("openchat_sharegpt4"))
    assert isinstance(d.isl, LognormalLength) and isinstance(d.osl, LognormalLength)
    assert d.isl_basis == d.osl_basis == "lognormal matched to median and p90"
    assert d.isl.shape_sigma == pytest.approx(0.92980, abs=1e-4)
    assert d.isl_mean == pytest.approx(2665.4, abs=0.5)
    assert d.osl.shape_sigma == pytest.approx(0.54461, abs=1e-4)
    assert d.osl_mean == pytest.approx(481.3, abs=0.1)
    assert p90_of(d.isl) == pytest.approx(5696, rel=1e-3)
    assert p90_of(d.osl) == pytest.approx(834, rel=1e-3)
    assert d.isl.max == d.osl.max == 8192
    assert "no length spread" not in d.describe()


def test_arxiv_summarization_is_a_lognormal_of_median_and_p90_by_hand() -> None:
    # prompt s = ln(12985/7059) / 1.2816 = 0.60949 / 1.2816 = 0.47557,
    # mean = 7059 e^(0.47557^2/2) = 7059 x e^0.11308 = 7059 x 1.11973 = 7904.2 tokens;
    # output s = ln(371/208) / 1.2816 = 0.57867 / 1.2816 = 0.45152,
    # mean = 208 e^(0.45152^2/2) = 208 x e^0.10193 = 208 x 1.10731 = 230.3 tokens.
    d = dataset_lengths(get_dataset("arxiv_summarization"))
    assert isinstance(d.isl, LognormalLength) and isinstance(d.osl, LognormalLength)
    assert d.isl.shape_sigma == pytest.approx(0.47557, abs=1e-4)
    assert d.isl_mean == pytest.approx(7904.2, abs=0.5)
    assert d.osl.shape_sigma == pytest.approx(0.45152, abs=1e-4)
    assert d.osl_mean == pytest.approx(230.3, abs=0.1)
    assert d.isl.max == d.osl.max == 16384


def test_a_set_with_a_spread_draws_different_lengths_around_its_median() -> None:
    # The draws' median is the published median (clipping at 8192 only touches the top
    # ~4.7%: ln(8192/1730) / 0.9298 = 1.672 sigma above it), and the top draws reach the clip.
    isl, osl = draw_requests(dataset_workload(get_dataset("openchat-sharegpt4"), seed=5), 20_000)
    assert float(np.median(isl)) == pytest.approx(1730, rel=0.03)
    assert float(np.median(osl)) == pytest.approx(415, rel=0.03)
    assert float(np.percentile(isl, 90)) == pytest.approx(5696, rel=0.05)
    assert int(isl.max()) == 8192 and int(np.percentile(isl, 99)) > 3 * int(np.median(isl))


# --- Vidur's workload table (github.com/microsoft/vidur, dashboard intro_page.py) --------
# Agrawal et al., Vidur, MLSys 2024 (arXiv:2405.05465), tokens (mean, median, P90):
#   LMSys-Chat-1M-4K        prefill 686, 417, 1678;   decode 197, 139, 484
#   Bilingual-Web-Book-4K   prefill 1067, 1037, 1453; decode 1612, 1601, 2149


@pytest.mark.parametrize(
    ("name", "side", "figure", "value"),
    [
        ("lmsys-chat-1m-4k", "input", "mean", 686),
        ("lmsys-chat-1m-4k", "input", "median", 417),
        ("lmsys-chat-1m-4k", "input", "p90", 1678),
        ("lmsys-chat-1m-4k", "output", "mean", 197),
        ("lmsys-chat-1m-4k", "output", "median", 139),
        ("lmsys-chat-1m-4k", "output", "p90", 484),
        ("bwb-4k", "input", "mean", 1067),
        ("bwb-4k", "input", "median", 1037),
        ("bwb-4k", "input", "p90", 1453),
        ("bwb-4k", "output", "mean", 1612),
        ("bwb-4k", "output", "median", 1601),
        ("bwb-4k", "output", "p90", 2149),
    ],
)
def test_vidur_workload_table_figures(name: str, side: str, figure: str, value: int) -> None:
    stats = getattr(get_dataset(name), side)
    assert getattr(stats, figure) == value and stats.unit == "tokens" and stats.max is None


def test_lmsys_chat_1m_4k_is_a_lognormal_of_mean_and_median_by_hand() -> None:
    # s = sqrt(2 ln(mean/median)): prompt ln(686/417) = ln 1.64508 = 0.49779, s = 0.99779,
    # mu = ln 686 - 0.49779 = 6.53088 - 0.49779 = 6.03309, e^mu = 417.0 (the median);
    # output ln(197/139) = ln 1.41727 = 0.34872, s = 0.83513.
    # Its P90 = 417 e^(1.2816 x 0.99779) = 417 x 3.5921 = 1498 against the published 1678.
    d = dataset_lengths(get_dataset("LMSYS-Chat-1M-4K"))
    assert isinstance(d.isl, LognormalLength) and isinstance(d.osl, LognormalLength)
    assert d.isl_basis == d.osl_basis == "lognormal matched to mean and median"
    assert (d.isl_mean, d.osl_mean) == (686, 197)
    assert d.isl.shape_sigma == pytest.approx(0.99779, abs=1e-4)
    assert math.exp(math.log(686) - d.isl.shape_sigma**2 / 2) == pytest.approx(417, abs=0.01)
    assert d.osl.shape_sigma == pytest.approx(0.83513, abs=1e-4)
    assert p90_of(d.isl) == pytest.approx(1498, abs=1)


def test_bwb_4k_is_a_narrow_lognormal_by_hand() -> None:
    # prompt ln(1067/1037) = 0.028519, s = sqrt(0.057039) = 0.23883;
    # output ln(1612/1601) = 0.006847, s = sqrt(0.013695) = 0.11702.
    d = dataset_lengths(get_dataset("bwb"))
    assert isinstance(d.isl, LognormalLength) and isinstance(d.osl, LognormalLength)
    assert d.isl.shape_sigma == pytest.approx(0.23883, abs=1e-4)
    assert d.osl.shape_sigma == pytest.approx(0.11702, abs=1e-4)
