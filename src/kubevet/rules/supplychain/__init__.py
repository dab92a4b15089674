"""Supply-chain rules (KV5xx): what image each container really runs, and where it came from.
Nothing here uses the network.

- images.py      KV501-KV507  image references: tags, digests, pull policies, registries
- provenance.py  KV510-KV514  SLSA provenance, SBOMs, signatures, trusted builders
"""
