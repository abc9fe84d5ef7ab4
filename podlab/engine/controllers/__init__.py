"""Controllers that read the store and write objects back (``pkg/controller``): Deployment,
ReplicaSet and Job (``controllers``), the Service registry, EndpointSlice and Endpoints
controllers with kube-proxy's routing (``services``) and CoreDNS's answers (``dns``).
"""
