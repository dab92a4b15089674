"""Offline supply-chain evidence: image lock files and attestations (in-toto, DSSE, Sigstore).

Nothing here touches the network: every input is a local file the pipeline stored.
"""
