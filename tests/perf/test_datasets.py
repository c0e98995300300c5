"""Named dataset lengths."""

from __future__ import annotations

import pytest

from inferplan.errors import SpecError
from inferplan.perf.datasets import dataset_lengths, dataset_named_in, dataset_workload


def test_sharegpt_means_are_the_published_ones() -> None:
    # Kwon et al. 2023 (arXiv:2309.06180) Fig. 11: ShareGPT 161.31 in / 337.99 out
    d = dataset_lengths("sharegpt_v3")
    assert (d.isl_mean, d.osl_mean) == (161.31, 337.99)
    w = dataset_workload("ShareGPT")
    assert (w.isl.mean, w.osl.mean) == (161.0, 338.0)


def test_unknown_dataset_names_the_known_ones() -> None:
    with pytest.raises(SpecError, match="ShareGPT"):
        dataset_lengths("no-such-set")


def test_dataset_found_in_free_text() -> None:
    found = dataset_named_in("benchmark_serving on the Alpaca prompts")
    assert found is not None and found.name == "Alpaca"
    assert dataset_named_in("random 1000/1000 prompts") is None
