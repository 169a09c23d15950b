"""Cutting a process off the network: the query workers of the embedded store run in
their own (empty) network namespace when no SERVICE endpoint is allowed, so even a
SERVICE that got past the text check (``sparqlguard``) has nowhere to connect.

A second layer, not the first: it needs Linux with unprivileged user namespaces; where
the kernel refuses, the worker runs as before (logged) and the text check alone holds.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def cut_network() -> bool:
    """Move this process into a new user and network namespace (only a loopback device,
    down): no connection can leave it. Open files and pipes keep working. True when
    done."""
    if not sys.platform.startswith("linux"):
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0:
        log.warning(
            "query worker keeps the network: unshare refused (%s)",
            os.strerror(ctypes.get_errno()),
        )
        return False
    return True
