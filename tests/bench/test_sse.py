"""SSE/NDJSON decoding and chunk interpretation (WHATWG HTML 9.2 event stream rules)."""

from __future__ import annotations

import pytest

from inferplan.bench.sse import (
    DONE,
    MalformedChunkError,
    NdjsonDecoder,
    SseDecoder,
    read_chunk,
)


def test_comments_are_counted_not_dispatched() -> None:
    d = SseDecoder()
    assert d.feed(b": ping\n\n: another\n\ndata: x\n\n") == ["x"]
    assert d.comments == 2


def test_multi_line_data_joins_with_lf_and_one_leading_space_is_dropped() -> None:
    d = SseDecoder()
    assert d.feed(b"data: a\ndata:  b\ndata:c\n\n") == ["a\n b\nc"]


def test_event_split_across_reads_is_reassembled() -> None:
    d = SseDecoder()
    assert d.feed(b'data: {"a"') == []
    assert d.feed(b": 1}\n") == []
    assert d.feed(b"\n") == ['{"a": 1}']


@pytest.mark.parametrize(
    "pieces",
    [
        [b"data: x\r\n\r\ndata: y\r\n\r\n"],
        [b"data: x\r", b"\n\r", b"\ndata: y\r\n\r\n"],  # CRLF split between reads
        [b"data: x\r\rdata: y\r\r"],  # bare CR line ends
    ],
)
def test_all_three_line_endings(pieces: list[bytes]) -> None:
    d = SseDecoder()
    out: list[str] = []
    for piece in pieces:
        out += d.feed(piece)
    assert out == ["x", "y"]


def test_crlf_split_does_not_end_a_multi_line_event_early() -> None:
    d = SseDecoder()
    out = d.feed(b"data: a\r") + d.feed(b"\ndata: b\r\n\r\n")
    assert out == ["a\nb"]


def test_utf8_character_split_between_reads() -> None:
    d = SseDecoder()
    text = "data: héllo\n\n".encode()
    cut = text.index(b"\xc3") + 1  # in the middle of the two-byte 'é'
    assert d.feed(text[:cut]) + d.feed(text[cut:]) == ["héllo"]


def test_event_without_closing_blank_line_is_returned_by_flush() -> None:
    d = SseDecoder()
    assert d.feed(b"data: [DONE]") == []
    assert d.flush() == [DONE]


def test_other_fields_are_ignored() -> None:
    d = SseDecoder()
    assert d.feed(b"event: message\nid: 7\nretry: 10\ndata: x\n\n") == ["x"]


def test_ndjson_lines() -> None:
    d = NdjsonDecoder()
    assert d.feed(b'{"a":1}\n{"b"') == ['{"a":1}']
    assert d.feed(b":2}\n\n") == ['{"b":2}']
    assert d.flush() == []


def test_role_only_and_empty_deltas_carry_no_text() -> None:
    role = {"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]}
    empty = {"choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}]}
    assert read_chunk(role, "chat").content == ""
    assert read_chunk(empty, "chat").content == ""


def test_usage_only_final_chunk() -> None:
    info = read_chunk({"choices": [], "usage": {"completion_tokens": 5}}, "chat")
    assert info.content == "" and info.usage == {"completion_tokens": 5}


def test_completions_text_reasoning_and_finish_reason() -> None:
    assert read_chunk({"choices": [{"text": "ab", "finish_reason": None}]}, "completions").content
    info = read_chunk({"choices": [{"delta": {"reasoning_content": "hm"}}]}, "chat")
    assert info.reasoning == "hm" and info.content == ""
    done = read_chunk({"choices": [{"delta": {}, "finish_reason": "length"}]}, "chat")
    assert done.finish_reason == "length"


def test_llama_cpp_timings_are_read() -> None:
    info = read_chunk({"choices": [], "usage": {}, "timings": {"predicted_n": 8, "x": "s"}}, "chat")
    assert info.timings == {"predicted_n": 8.0}


def test_ollama_final_object_gives_durations() -> None:
    info = read_chunk({"response": "", "done": True, "eval_count": 3, "eval_duration": 9}, "ollama")
    assert info.done and info.finish_reason == "stop"
    assert info.timings == {"eval_count": 3.0, "eval_duration": 9.0}


@pytest.mark.parametrize(
    "obj",
    [[1, 2], {"id": "x"}, {"choices": "no"}, {"error": {"message": "boom"}}, {"choices": [3]}],
)
def test_malformed_chunks_raise(obj: object) -> None:
    with pytest.raises(MalformedChunkError):
        read_chunk(obj, "chat")
