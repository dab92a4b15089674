"""Reliability rules (KV3xx), by subject:

- probes.py        KV301-KV304  liveness and readiness probes, probe timing, preStop hooks
- availability.py  KV305, KV307, KV308, KV314  replicas, autoscalers, disruption budgets
- controllers.py   KV306, KV309-KV313  restart policies, StatefulSets, CronJobs, bare Pods, env
- references.py    KV315-KV317  autoscaler targets, probe ports, workload selectors
- kinds.py         which kinds run forever or to completion; Helm hooks
"""
