"""PodLab's simulated Kubernetes node: pure Python, deterministic, no Django.

Import the submodules directly (``podlab.engine.apiserver.manifest``, ``podlab.engine.simulation``);
this package file stays empty of imports so that loading one part never loads the rest.
"""
