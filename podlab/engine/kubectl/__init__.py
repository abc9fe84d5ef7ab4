"""kubectl's human-readable views of v1 objects, computed the way kubectl 1.34 computes them.

Every printer takes plain v1 dicts (what ``kubectl get -o json`` returns) and the simulated
"now" in seconds since the engine's epoch; none of them reads a clock.

* ``duration``: ``HumanDuration`` (AGE, LAST SEEN, ``(5m ago)``) and timestamp parsing.
* ``tabwriter``: the column alignment of Go's ``text/tabwriter`` as kubectl configures it.
* ``get``: ``get pods`` (+ ``-o wide``, ``-w``), ``get events``, ``get nodes``, ``get services``,
  ``get namespaces``, ``get serviceaccounts`` and the workload tables.
* ``describe``: ``describe pod``.
* ``logs``: ``logs`` / ``logs --previous`` and kubectl's errors.
* ``jsonfmt``: ``-o json`` byte for byte as kubectl's JSON printer writes it.
"""
