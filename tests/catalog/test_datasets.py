"""The dataset length catalog: every record sourced, dated and loadable."""

from __future__ import annotations

import datetime as dt

from inferplan.catalog.datasets import get_dataset, load_datasets


def test_every_record_has_source_date_and_a_published_figure() -> None:
    cat = load_datasets()
    assert len(cat) >= 10
    for rec in cat:
        assert len(rec.source) > 20 and rec.as_of <= dt.date(2026, 12, 4)
        for stats in (rec.input, rec.output):
            assert stats.mean or stats.median or stats.max


def test_words_are_only_used_with_a_sourced_conversion() -> None:
    for rec in load_datasets():
        if "words" in (rec.input.unit, rec.output.unit):
            assert rec.tokens_per_word == 1.3333 and "75 words" in rec.conversion


def test_names_ids_and_aliases_find_the_same_record() -> None:
    assert get_dataset("ShareGPT") is get_dataset("sharegpt-v3") is get_dataset("share_gpt")
    assert get_dataset("Azure LLM inference trace 2023, coding").id == "azure-code-2023"
