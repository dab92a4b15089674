"""Sustainability rules (KV9xx): plausible sizes, autoscaling, off-hours scale-down,
finished-job cleanup and oversized sidecars. Whether requests and limits are present at
all is the resources pack's business (KV20x); these rules judge the values and the waste.
`kubevet footprint` prices what fixing each of them saves.

- sizes.py    KV901-KV903, KV907  requests and limits: valid, plausible, proportionate
- scaling.py  KV904-KV906, KV908  autoscaling, off-hours scale-down, finished Jobs, VPA/HPA
"""
