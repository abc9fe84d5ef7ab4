"""The container runtime and what it runs (CRI's side of the kubelet): the runtime itself
(``runtime``, ``fakeruntime``), the program contract (``process``), container file systems
(``filesystem``), the busybox shell (``shell``), images, their catalogue and the registry
(``images``, ``catalogue``, ``registry``, ``servers``, ``imagedocs``; data in ``data/``).
Nothing here imports the kubelet.
"""
