"""What the request's application serves: its catalogue and its settings, read here only.

The settings are the application's (``create_app``'s ``config``); a catalogue handed in
keeps the ones it was opened with, the same object unless a caller hands in others.
"""

from __future__ import annotations

from flask import current_app

from eti.catalogue.config import Settings
from eti.catalogue.core import Catalogue


def catalogue() -> Catalogue:
    """The catalogue this application serves."""
    return current_app.extensions["eti"]


def settings() -> Settings:
    """This application's settings."""
    return current_app.config["SETTINGS"]
