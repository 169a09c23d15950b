"""rdflib-endpoint over an N-Quads file, as a peer of the ETI server.

    python bench/rdflib_peer.py FILE PORT

Loads FILE into an in-memory ``rdflib.Dataset`` whose default graph is the union of its
graphs (as ``rdflib-endpoint serve`` does), then serves it with uvicorn on 127.0.0.1:PORT
at ``/sparql``. Prints ``loaded N triples in S s`` on standard error before serving.
"""

from __future__ import annotations

import sys
import time

import uvicorn
from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def main() -> None:
    path, port = sys.argv[1], int(sys.argv[2])
    started = time.perf_counter()
    dataset = Dataset(default_union=True)
    dataset.parse(path, format="nquads")
    took = time.perf_counter() - started
    print(f"loaded {len(dataset)} triples in {took:.1f} s", file=sys.stderr, flush=True)
    app = SparqlEndpoint(graph=dataset, path="/sparql", cors_enabled=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
