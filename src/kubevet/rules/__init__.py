"""Rule packs, one module per concern; see registry.py."""
