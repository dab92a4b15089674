"""kubevet: vet Kubernetes workloads before and after they ship."""

__version__ = "0.1.0"
