"""Quotas on information needs (issue 14, part 3): six 3 MB posts to ``/api/needs`` grew
the public agents graph to 19 MB. A need has a largest size, and each channel a number
and a size of needs it may record; refusals name the setting and store nothing."""

from __future__ import annotations

from test_needs import LOS, add, channel_token, dump

THEME = {"themes": [LOS + "ord/omsorgsavlastning"]}


def post(client, headers, description: str):  # type: ignore[no-untyped-def]
    return client.post("/api/needs", json={"description": description, **THEME}, headers=headers)


def test_a_need_of_any_size_is_stored(client, catalogue) -> None:
    nav_no = channel_token(catalogue, "nav-no")
    before = dump(catalogue)
    response = post(client, nav_no, "x" * 3_000_000)
    assert response.status_code == 413
    assert "need_max_bytes" in response.json["detail"]
    assert dump(catalogue) == before


def test_a_channel_records_any_number_of_needs(client, catalogue, settings) -> None:
    settings.needs_per_channel = 3
    # channels without needs in the demo
    first, other = channel_token(catalogue, "quota-a"), channel_token(catalogue, "quota-b")
    for i in range(3):
        add(client, first, description=f"need {i}", **THEME)
    before = dump(catalogue)
    refused = post(client, first, "one too many")
    assert refused.status_code == 429
    assert "needs_per_channel = 3" in refused.json["detail"]
    assert dump(catalogue) == before
    add(client, other, description="another channel's need", **THEME)  # a quota per channel


def test_a_channel_fills_the_agents_graph_with_needs(client, catalogue, settings) -> None:
    settings.need_max_bytes, settings.need_bytes_per_channel = 2000, 3000
    channel = channel_token(catalogue, "quota-a")
    add(client, channel, description="y" * 1200, **THEME)  # about 1,700 bytes
    before = dump(catalogue)
    refused = post(client, channel, "z" * 1200)
    assert refused.status_code == 429
    assert "need_bytes_per_channel = 3000" in refused.json["detail"]
    assert dump(catalogue) == before
