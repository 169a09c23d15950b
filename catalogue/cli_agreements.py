"""``eti agreement``: the agreement lifecycle (request, accept, refuse, terminate, list)
through a running server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from . import remote
from .cli_common import guarded, table


@click.group("agreement")
def agreement_group() -> None:
    """The agreement lifecycle through a running server: request, accept, refuse,
    terminate, list."""


def _server_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = guarded(func)
    func = click.option(
        "--token", envvar="ETI_TOKEN", required=True, help="Bearer token [env ETI_TOKEN]."
    )(func)
    return click.option(
        "--server",
        envvar="ETI_SERVER",
        default="http://127.0.0.1:8080",
        show_default=True,
        help="The catalogue's URL [env ETI_SERVER].",
    )(func)


AGREEMENT_COLUMNS = ("ID", "STATUS", "START", "END", "PRODUCT", "CHANNEL")


def _print_agreements(docs: list[dict], *, header: bool = True) -> None:
    """Agreements as a table; one agreement acted on as its row alone (its id first)."""
    rows = [(d["id"], d["status"], d["start"], d["end"], d["target"], d["assignee"]) for d in docs]
    text = table(AGREEMENT_COLUMNS, rows)
    click.echo(text if header else text.split("\n", 1)[1])


def _agreement_call(method: str, server: str, path: str, token: str, **kwargs: Any) -> Any:
    return remote.call(server, token, method, path, **kwargs)


@agreement_group.command("request")
@click.argument("offer")
@click.option(
    "--purpose",
    default="https://w3id.org/dpv#ServiceProvision",
    show_default=True,
    help="DPV purpose IRI.",
)
@click.option("--start", required=True, help="First day (YYYY-MM-DD).")
@click.option("--end", required=True, help="Last day (YYYY-MM-DD).")
@_server_options
def agreement_request(
    offer: str, purpose: str, start: str, end: str, server: str, token: str
) -> None:
    """Request OFFER for a period (as a channel); an open offer is accepted at once."""
    body = {"offer": offer, "purpose": purpose, "start": start, "end": end}
    answer = _agreement_call("POST", server, "/api/agreements", token, json=body)
    _print_agreements([answer], header=False)


def _transition_command(action: str, doc: str) -> None:
    @agreement_group.command(action, help=doc)
    @click.argument("ident")
    @_server_options
    def command(ident: str, server: str, token: str) -> None:
        path = f"/api/agreements/{ident}/{action}"
        _print_agreements([_agreement_call("POST", server, path, token)], header=False)


_transition_command("accept", "Accept a requested agreement (the owner's steward).")
_transition_command("refuse", "Refuse a requested agreement (the owner's steward).")
_transition_command("terminate", "Terminate an agreement (either party).")


@agreement_group.command("list")
@_server_options
def agreement_list(server: str, token: str) -> None:
    """List the caller's agreements with their status."""
    _print_agreements(_agreement_call("GET", server, "/api/agreements", token)["agreements"])
