"""The web UI and the REST API are two faces that never import each other."""

from __future__ import annotations

import pytest

from inferplan.http_shared import MAX_ID, token_is_valid, token_role


def test_web_and_api_do_not_import_each_other() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("inferplan")
    assert graph.find_shortest_chains(importer="inferplan.web", imported="inferplan.api") == set()
    assert graph.find_shortest_chains(importer="inferplan.api", imported="inferplan.web") == set()


class _Tokens:
    token = "read-write-token"
    read_token = "read-only-token"


def test_token_roles() -> None:
    assert token_role(_Tokens(), "read-write-token") == "rw"
    assert token_role(_Tokens(), "read-only-token") == "ro"
    assert token_role(_Tokens(), "read-write-toke") is None
    assert token_role(_Tokens(), None) is None
    assert not token_is_valid(_Tokens(), "")


def test_record_ids_fit_a_32_bit_signed_integer() -> None:
    assert MAX_ID == 2_147_483_647  # PostgreSQL INTEGER maximum
