"""Energy and carbon estimates per workload (`kubevet footprint`).

coefficients.py  the sourced numbers (data/carbon-coefficients.yaml) plus config overrides
model.py         the Cloud Carbon Footprint and SCI arithmetic, free of Kubernetes
workloads.py     what each workload requests, how many replicas, autoscalers, schedules
schedule.py      kube-downscaler time specs and cron expressions -> hours per month
kepler.py        measured energy from a Kepler Prometheus text exposition
estimate.py      workloads x coefficients -> rows, summaries and savings
report.py        text, json and csv
"""
