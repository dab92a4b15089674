"""RBAC rules (KV4xx), by subject:

- roles.py     KV401-KV404  what Roles and bindings grant (wildcards, dangerous verbs,
               cluster-wide Secret readers, cluster-admin)
- accounts.py  KV405, KV406  the ServiceAccounts workloads run as
- bindings.py  KV407        bindings whose subject is everyone (anonymous, all users)
"""
