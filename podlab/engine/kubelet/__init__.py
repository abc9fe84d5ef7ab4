"""The kubelet (``pkg/kubelet``): Pod workers (``kubelet``), probes (``probes``), status
(``status``), volumes (``volumes``), the container environment (``env``) and resources and
eviction (``resources``). It runs containers through ``runtime`` and never the other way round.
"""
