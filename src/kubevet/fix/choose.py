"""Which fixes a run may apply: the options, the report, the choice per finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet.findings import Edit, Finding
from kubevet.fix.chart import ChartResult
from kubevet.fix.manifests import FileResult
from kubevet.fix.profile import Profile

if TYPE_CHECKING:
    from kubevet.context import InputGroup
    from kubevet.runner import RunSettings


@dataclass
class FixOptions:
    unsafe: bool = False
    diff_only: bool = False
    output: str | None = None  # values override path (charts)
    profile: Profile | None = None
    post_render_dir: str | None = None  # lever 2's patch set (charts)
    template_patch: str | None = None  # lever 3's patch file (charts)
    in_place: bool = False  # `output` is the user's last -f file: edit it, keep its comments


@dataclass
class FixReport:
    files: list[FileResult] = field(default_factory=list)
    charts: list[ChartResult] = field(default_factory=list)
    skipped: list[tuple[Finding, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    withdrawn: list[tuple[Finding, str]] = field(default_factory=list)  # added a finding
    no_fix: list[Finding] = field(default_factory=list)  # the rule offers no fix for it


Chosen = list[tuple[Finding, tuple[Edit, ...]]]


def choose(findings: list[Finding], opts: FixOptions, report: FixReport) -> Chosen:
    """Findings whose fix may be applied, with their (profile-adjusted) edits."""
    from kubevet.rules.registry import get_rule

    chosen: Chosen = []
    for f in findings:
        if (
            f.suppressed is None
            and f.fix
            and not f.fix.edits
            and f.fix.applicability == "display-only"
        ):
            report.skipped.append((f, f.fix.description))  # why no fix: said, not silent
            continue
        if f.suppressed is None and not f.fix:
            report.no_fix.append(f)  # counted in the output, not dropped in silence
            continue
        if f.suppressed is not None or not f.fix or not f.fix.edits:
            continue
        if f.fix.applicability not in ("safe", "unsafe"):
            report.skipped.append((f, "display-only fix"))
            continue
        if f.fix.applicability == "unsafe" and not opts.unsafe:
            report.skipped.append((f, "unsafe fix (use --unsafe-fixes)"))
            continue
        edits = f.fix.edits
        if opts.profile:
            rule = get_rule(f.code)
            obj = f.obj.data
            why = opts.profile.conflict(f, rule.unified if rule else (), obj)
            if why:
                report.skipped.append((f, why))
                continue
            edits = opts.profile.adjust(f, edits)
        chosen.append((f, edits))
    return chosen


def check(group: InputGroup, settings: RunSettings) -> list[Finding]:
    from kubevet.engine import check_group

    rules = settings.rules()
    found = [f for f in check_group(group, rules, settings.options) if f.suppressed is None]
    usage = settings.options.settings.get(RBAC_USAGE)
    if usage is not None:  # `fix --audit-log`: roles narrowed to what the log shows
        from kubevet.fix.rbacnarrow import attach

        attach(found, group, usage)
    return found


RBAC_USAGE = "rbac_usage"  # settings key: the audit log's requests per ServiceAccount


# Check -> fix rounds per manifest input. A fix can make another one applicable (KV106
# offers `allowPrivilegeEscalation: false` only once KV105 has dropped `privileged: true`,
# which the API server requires), so one round is not the fixed point; each round only
# tries findings not tried before, so the rounds end once nothing new is fixable.
MAX_ROUNDS = 5


def merge_skipped(report: FixReport, scratch: FixReport, tried: set[tuple[Any, ...]]) -> None:
    """Skipped fixes of a later round that were not reported (or tried) before."""
    seen = {finding_key(f) for f, _why in report.skipped} | tried
    report.skipped.extend((f, why) for f, why in scratch.skipped if finding_key(f) not in seen)


def finding_key(f: Finding) -> tuple[Any, ...]:
    ref = f.object
    return (ref.kind, ref.namespace, ref.name, f.code, f.path, f.container)
