"""The ``eti`` command line: the click group and where each verb lives.

The main verb, ``eti serve`` (the web server), plugs in through the ``eti.commands``
entry-point group, as ``eti channel``, ``eti dev-token`` and ``eti mirror`` do, so the
catalogue never imports the server. Every other verb has a room of its own:

- ``cli_data``: ``demo``, ``load``, ``dump``, ``restore``, ``vocab import|install``
- ``cli_query``: ``query``
- ``cli_validate``: ``validate``
- ``cli_products``: ``register``, ``withdraw``, ``history``
- ``cli_agreements``: ``agreement request|accept|refuse|terminate|list`` (through a server)
- ``cli_harvest``: ``harvest add|run|list``
- ``cli_tokens``: ``token create|list|revoke``
- ``cli_common``: what they share (exit codes, ``fail``, ``--store``/``--store-url``/
  ``--config``, the error guard, progress bars, tables); ``remote``: calls to a server
  through ``eti.client``.

Exit codes: 0 ok, 1 a shared rule is broken, 2 bad input or usage.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import click

from . import __version__
from .cli_agreements import agreement_group
from .cli_common import fail, guarded, open_catalogue, store_options
from .cli_data import (
    demo_command,
    dump_command,
    load_command,
    restore_command,
    vocab_group,
)
from .cli_harvest import harvest_group
from .cli_products import history_command, register_command, withdraw_command
from .cli_query import query_command
from .cli_tokens import token_group
from .cli_validate import validate_command

# the helpers plug-ins used from here before cli_common existed (eti serve among them)
__all__ = ["cli", "fail", "guarded", "main", "open_catalogue", "store_options"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eti")
def cli() -> None:
    """ETI catalogue: data products, shared rules and agreements for the platform
    "Enklere tilgang til informasjon", with a SPARQL endpoint.

    Every command that touches the store takes --store PATH (embedded Oxigraph, the
    default ./var/store) or --store-url URL (a remote SPARQL 1.1 store).
    """


for _command in (
    demo_command,
    load_command,
    dump_command,
    restore_command,
    query_command,
    validate_command,
    vocab_group,
    register_command,
    withdraw_command,
    history_command,
    agreement_group,
    harvest_group,
    token_group,
):
    cli.add_command(_command)


def _plugins() -> None:
    for ep in entry_points(group="eti.commands"):
        if ep.name not in cli.commands:
            cli.add_command(ep.load(), ep.name)


def main() -> None:
    """Console entry point."""
    _plugins()
    cli(prog_name="eti")
