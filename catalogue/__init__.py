"""The ETI catalogue: store, registration, validation, agreements, search, harvest and CLI.

This package never imports ``eti.server``: the server and the CLI are two thin
faces on the functions defined here.
"""

__version__ = "0.1.0"
