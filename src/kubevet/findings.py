"""Findings, fixes and input errors: what analyses produce and reporters consume."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any, Literal

from kubevet.model import ObjectRef, Origin, Path, format_path, pickled_by_fields

if TYPE_CHECKING:
    from kubevet.model import K8sObject
    from kubevet.rules.registry import Rule
    from kubevet.trace import EditTrace
    from kubevet.traced import Trace


class Severity(IntEnum):
    INFO = 0
    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {text!r} (expected one of: {names})") from None

    def __str__(self) -> str:
        return self.name.lower()


Applicability = Literal["safe", "unsafe", "display-only"]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Edit:
    """One change to an object: set a value, remove a key, or append to a list."""

    op: Literal["set", "remove", "append"]
    path: Path
    value: Any = None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Fix:
    """The edits that fix a finding, and how safe they are to apply."""

    applicability: Applicability
    description: str
    edits: tuple[Edit, ...] = ()


@dataclass(slots=True)
class Violation:
    """What a rule's check yields; the engine turns it into a Finding."""

    message: str
    path: Path = ()
    container: str | None = None
    fix: Fix | None = None
    obj: K8sObject | None = None  # set only by cross-object rules: the object it is on


@dataclass(slots=True)
class Finding:
    """One violation of a rule on one object, as reporters write it."""

    code: str
    slug: str
    severity: Severity
    category: str
    message: str
    object: ObjectRef
    path: Path
    origin: Origin
    container: str | None = None
    fix: Fix | None = None
    line: int | None = None  # line of the offending field, where it could be located
    input: str = ""  # the input (file, chart, overlay) the object was read from
    trace: Trace | None = None
    suppressed: str | None = None  # the suppression reason, when suppressed
    # For a rendered origin (a chart template): the line in `origin.file` that provably
    # wrote the field or its nearest ancestor, found without tracing (kubevet.trace.place).
    source_line: int | None = None
    # The object it was found on; kept in the process that found it (runner drops it
    # before findings travel between processes).
    obj: K8sObject | None = field(default=None, compare=False, repr=False)
    # How each fix edit reaches the chart's values (kubevet.trace), for `fix` on charts.
    edit_traces: list[EditTrace] = field(default_factory=list, compare=False, repr=False)
    value_sets: list[str] = field(default_factory=list)  # the value sets that render it

    @property
    def path_text(self) -> str:
        return format_path(self.path)

    def sort_key(self) -> tuple[Any, ...]:
        ref = self.object
        return (
            self.input,
            self.origin.file,
            self.origin.line,
            ref.kind,
            ref.namespace or "",
            ref.name,
            self.code,
            self.path_text,
            self.container or "",
        )

    def dedup_key(self) -> tuple[Any, ...]:
        return (self.input, self.origin, self.object, self.code, self.path, self.container)


@dataclass(frozen=True)
class InputError(Exception):
    """Bad input: a file that cannot be read, parsed, rendered or understood.

    Sources both raise it and collect it in their group, so it is an exception that
    compares by value and pickles (errors cross process boundaries with `--jobs`).
    """

    file: str
    message: str
    line: int | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.file, self.message, self.line)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.file, self.message, self.line))

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


def finding_for(r: Rule, obj: K8sObject, v: Violation, label: str) -> Finding:
    """The finding of rule `r` for violation `v` of `obj`, found in input `label`. (Made
    for every violation of a run: the fields are given by position, in Finding's order,
    which the generated __init__ takes in half the time of keywords.)"""
    fix = v.fix if v.fix is None or not obj.malformed else _fix_clear_of(v.fix, obj)
    # code, slug, severity, category, message, object, path, origin, container, fix, line,
    # input, trace, suppressed, source_line, obj
    return Finding(
        r.code, r.slug, r.severity, r.category, v.message, obj.ref, v.path, obj.origin,
        v.container, fix, None, label, None, None, None, obj,
    )  # fmt: skip


def _fix_clear_of(fix: Fix, obj: K8sObject) -> Fix | None:
    """No fix edits through a malformed field: the rule saw the object without it, so an
    edit there would be computed against a shape the file does not have."""
    for edit in fix.edits:
        for bad in obj.malformed:
            n = min(len(edit.path), len(bad.path))
            if edit.path[:n] == bad.path[:n]:
                return None
    return fix


def __getattr__(name: str) -> Any:
    # Trace lives in kubevet.traced, imported only where charts are traced (its class is
    # built at import: ~0.1 ms a check without tracing never needs); still importable here.
    if name == "Trace":
        from kubevet.traced import Trace

        return Trace
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
