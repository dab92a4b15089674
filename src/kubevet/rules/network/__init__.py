"""Network rules (KV6xx), by subject:

- services.py  KV602-KV604  Services and Ingresses: NodePorts, selectors matching nothing,
               wildcard hosts
- policies.py  KV601, KV605-KV608  NetworkPolicy coverage and AdminNetworkPolicy hygiene
- backends.py  KV609        Ingress backends naming no Service or port of the input
- peers.py     KV610        policy peers meant for the release's pods selecting none of them
"""
