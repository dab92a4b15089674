"""Functionality profiles: what each container needs, so no fix takes it away.

The format is the one of the chart study's profiles: per pod and container, per unified
check id (check_N), `value: false` when hardening that check breaks the container (for
example check_28, run as non-root), `add` for the capabilities it needs (check_34),
and the resource amounts it needs (check_1/2/4/5).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kubevet import jsontext
from kubevet.findings import Edit, Finding
from kubevet.model import Path

# resources field -> unified check holding the amount the container needs
RESOURCE_CHECKS = {
    ("requests", "memory"): "check_1",
    ("limits", "memory"): "check_2",
    ("requests", "cpu"): "check_4",
    ("limits", "cpu"): "check_5",
}


class ProfileError(Exception):
    pass


@dataclass
class Profile:
    # (kind, name, container) -> {check id -> functionality}
    containers: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> Profile:
        from kubevet.findings import InputError
        from kubevet.sources.reader import read_bytes

        try:
            data = jsontext.loads(read_bytes(path))
        except InputError as err:  # only a regular file, up to the size bound
            raise ProfileError(f"{path}: cannot read profile: {err.message}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path}: cannot read profile: {exc}") from None
        prof = cls()
        for i, pod in enumerate(_list(path, "pods", _mapping(path, "", data).get("pods"))):
            at = f"pods[{i}]"
            containers = _mapping(path, at, pod).get("containers")
            for j, c in enumerate(_list(path, f"{at}.containers", containers)):
                c_at = f"{at}.containers[{j}]"
                funcs = _mapping(path, c_at, c).get("functionalities") or {}
                for check, func in _mapping(path, f"{c_at}.functionalities", funcs).items():
                    func = _mapping(path, f"{c_at}.functionalities.{check}", func)
                    kind, _, name = _resource(func.get("resource_path"))
                    if kind:
                        prof.containers[(kind, name, str(c.get("cont_name")))] = funcs
                        break
        return prof

    def needs(self, f: Finding) -> dict[str, Any]:
        return self.containers.get((f.object.kind, f.object.name, f.container or ""), {})

    def conflict(self, f: Finding, unified: tuple[str, ...], obj: dict[str, Any]) -> str | None:
        """Why the finding's fix contradicts the profile, or None."""
        funcs = self.needs(f)
        if not funcs or not f.fix:
            return None
        for check in unified:
            func = funcs.get(check)
            if isinstance(func, dict) and func.get("value") is False:
                return f"profile: the container needs it ({check}: {func.get('description')})"
        needed = set((funcs.get("check_34") or {}).get("add") or [])
        for e in f.fix.edits:
            if _removes_capability(e, obj, needed):
                return "profile: the container needs the capabilities " + ", ".join(sorted(needed))
        return None

    def adjust(self, f: Finding, edits: tuple[Edit, ...]) -> tuple[Edit, ...]:
        """Resource amounts the profile names replace the rule's defaults."""
        funcs = self.needs(f)
        out = []
        for e in edits:
            check = RESOURCE_CHECKS.get(tuple(e.path[-2:])) if _is_resources(e.path) else None
            amount = (funcs.get(check) or {}).get("value") if check else None
            out.append(Edit(e.op, e.path, amount) if isinstance(amount, str) else e)
        return tuple(out)


def _mapping(path: str, at: str, value: Any) -> dict[str, Any]:
    """`value` when it is a JSON object, else the profile is refused naming where."""
    if not isinstance(value, dict):
        where = f" at {at}" if at else ""
        raise ProfileError(f"{path}: not a functionality profile: expected an object{where}")
    return value


def _list(path: str, at: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ProfileError(f"{path}: not a functionality profile: expected a list at {at}")
    return value


def _resource(text: Any) -> tuple[str, str, str]:
    parts = str(text or "").split("/")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    return ("", "", "") if len(parts) < 2 else (parts[0], "", parts[-1])


def _is_resources(path: Path) -> bool:
    return len(path) >= 3 and path[-3] == "resources"


def _removes_capability(e: Edit, obj: dict[str, Any], needed: set[str]) -> bool:
    if not needed or "capabilities" not in e.path:
        return False
    from kubevet.model import get_path

    if e.op == "remove" and e.path[-2:-1] == ("add",):
        return get_path(obj, e.path) in needed
    if e.op == "set" and e.path[-1] == "add":
        return not needed <= set(e.value or [])
    return False
