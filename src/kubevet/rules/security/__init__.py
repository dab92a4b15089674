"""Container and pod hardening rules (KV1xx), Pod Security Standards controls included, by
subject:

- identity.py   KV101-KV104  who the containers run as
- privilege.py  KV105-KV110  privileged mode, privilege escalation, capabilities
- workload.py   KV111, KV112, KV128, KV136-KV138  security context, root filesystem, volumes
- kernel.py     KV113-KV120, KV129  seccomp, AppArmor, SELinux, /proc, sysctls
- host.py       KV121-KV127, KV130, KV131  host namespaces, ports, paths, sockets, probes
- accounts.py   KV132-KV135, KV139  service accounts, tokens, secrets in the environment
- ingress_nginx.py  KV140    ingress-nginx snippet annotations on Ingresses
- pss.py        the Pod Security Standards tables only (control -> rule, allow-lists)

Each PSS control (pod-security-admission check id) maps to one rule, named in `pss=`;
where a control is also a unified check of the seven-tool study, the same rule carries
both ids, so one problem in one container is one finding.
"""
