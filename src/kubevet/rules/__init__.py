"""Rule packs by subject; a rule's code names its module. See registry.py for how a rule is
declared, examples.py for the example manifests rules share.

KV001-KV002  meta.py                   kubevet's own suppression annotations
KV101-KV104  security/identity.py      who containers run as
KV105-KV110  security/privilege.py     privileged, escalation, capabilities
KV111-KV112  security/workload.py      security context, read-only root filesystem
KV113-KV120  security/kernel.py        seccomp, AppArmor, SELinux, /proc mount
KV121-KV127  security/host.py          host namespaces, ports, paths, runtime sockets
KV128        security/workload.py      volume types
KV129        security/kernel.py        sysctls
KV130-KV131  security/host.py          Windows host process, host probes and hooks
KV132-KV135  security/accounts.py      Secrets in env, service account tokens and fields
KV136-KV138  security/workload.py      subPath, SSH, the Kubernetes dashboard
KV139        security/accounts.py      secret literals in env
KV140        security/ingress_nginx.py ingress-nginx snippet annotations
KV141        security/kernel.py        AppArmor annotations naming no container
             security/pss.py           the Pod Security Standards tables (no rules)
KV201-KV208  resources.py              requests, limits, LimitRange, ResourceQuota
KV301-KV304  reliability/probes.py     probes, preStop hooks
KV305        reliability/availability.py  single replica
KV306        reliability/controllers.py   restart policy
KV307-KV308  reliability/availability.py  PodDisruptionBudgets
KV309-KV313  reliability/controllers.py   StatefulSets, CronJobs, bare Pods, env
KV314        reliability/availability.py  replicas beside an autoscaler
KV315-KV317  reliability/references.py    autoscaler targets, probe ports, selectors
KV401-KV404  rbac/roles.py             what Roles grant
KV405-KV406  rbac/accounts.py          ServiceAccounts of workloads
KV407-KV408  rbac/bindings.py          bindings to everyone or to system:masters
KV501-KV507  supplychain/images.py     image references, digests, pull policies, registries
KV510-KV514  supplychain/provenance.py  provenance, SBOMs, signatures (sources/evidence.py)
KV520-KV527  builds.py                 Dockerfiles and apko configurations
KV601        network/policies.py       NetworkPolicy coverage
KV602-KV604  network/services.py       Services and Ingresses
KV605-KV608  network/policies.py       default deny, empty selectors, AdminNetworkPolicy
KV609        network/backends.py       Ingress backends naming no Service or port
KV610        network/peers.py          policy peers selecting none of the release's pods
KV701-KV703  upgrade.py                APIs removed or deprecated at the target version
KV801-KV803  hygiene.py                default namespace, recommended and owner labels
KV901-KV903  sustainability/sizes.py   quantities and their plausibility
KV904-KV906  sustainability/scaling.py autoscaling, off-hours, finished Jobs
KV907        sustainability/sizes.py   sidecars larger than the main container
KV908        sustainability/scaling.py VPA against HPA
"""
