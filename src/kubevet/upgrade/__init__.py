"""Upgrade readiness: removed and deprecated APIs, target-schema validation, audit-log
evidence and rewrites (`kubevet upgrade`, rules KV701-KV703)."""
