"""The `check` pipeline: discover inputs, load each, run rules, locate lines, collect."""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kubevet import exiting, limits, valuesets
from kubevet.context import InputGroup, Options
from kubevet.findings import Finding, InputError
from kubevet.limits import Limits
from kubevet.result import GroupSummary, Report
from kubevet.sources import Input, discover, goenv, input_bytes, load_input, with_cluster
from kubevet.sources.helmoptions import HelmOptions
from kubevet.spool import FindingSpool

if TYPE_CHECKING:
    from kubevet.model import Path
    from kubevet.progress import Progress
    from kubevet.rules.registry import Rule
    from kubevet.sources.cluster import ClusterOptions


@dataclass
class RunSettings:
    """How a check runs: options, Helm settings, rule selection, jobs, limits and inputs."""

    options: Options = field(default_factory=Options)
    helm: HelmOptions = field(default_factory=HelmOptions)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    severity: dict[str, str] = field(default_factory=dict)  # rule code -> severity name
    jobs: int = 1
    locate_lines: bool = True
    trace: bool = False  # trace chart findings to template lines and values keys
    # where traces are kept between runs ("": the environment's place; None: not kept)
    trace_cache: str | None = None
    limits: Limits = field(default_factory=Limits)
    value_sets: list[tuple[str, list[str]]] = field(default_factory=list)  # values matrix
    cluster: ClusterOptions | None = None  # when a live cluster is read
    snapshot: bool = False  # manifests are `kubectl get -o yaml` dumps of a cluster
    exclude: list[str] = field(default_factory=list)  # gitignore-style patterns for walks
    gitignore: bool = True  # walks honour .gitignore files
    lenient: bool = False  # named files holding no Kubernetes object are skipped, as in a walk
    # The rules of this run, selected on first use; copies (value sets, fix rounds) and
    # worker processes receive the list, so selection happens once per run.
    selected_rules: list[Rule] | None = field(default=None, repr=False, compare=False)

    @property
    def frameworks(self) -> list[str]:
        chosen = [*self.select, *self.extend_select]
        if not chosen:
            return []  # without selectors, the frameworks' data is not even read
        from kubevet.frameworks import framework_of

        return [s.lower() for s in chosen if framework_of(s)]

    @property
    def set_names(self) -> list[str]:
        return [name for name, _ in self.value_sets]

    def rules(self) -> list[Rule]:
        if self.selected_rules is None:
            from kubevet.rules.registry import select_rules

            self.selected_rules = select_rules(
                self.select, self.ignore, extend=self.extend_select, severity=self.severity
            )
        return self.selected_rules


Run = Callable[[list[Input], "RunSettings", "Progress | None"], Iterable[valuesets.Result]]


def run_check(
    paths: list[str],
    settings: RunSettings,
    progress: Progress | None = None,
    spool: bool = False,
    run: Run | None = None,
) -> Report:
    """`spool`: the findings go to a FindingSpool (bounded memory; the command line's
    reports read them once, in order) rather than a list. `run` checks the inputs, in
    input order (default: processes on this machine; the Ray engine streams them)."""
    rules = settings.rules()
    _freeze_start_up()
    inputs = discover(paths, settings.exclude, settings.gitignore, settings.lenient)
    report = Report(rules=rules, frameworks=settings.frameworks)
    if spool:  # a run over thousands of charts does not hold every finding at once
        report.findings = FindingSpool()
    stdin_inputs = [i for i in inputs if i.kind == "stdin"]
    others = with_cluster([i for i in inputs if i.kind != "stdin"], settings.cluster)
    collect(report, (_run_one(i, settings) for i in stdin_inputs))  # stdin: this process's
    return collect(report, (run or iter_inputs)(others, settings, progress))


def run_inputs(
    inputs: list[Input], settings: RunSettings, progress: Progress | None = None
) -> list[valuesets.Result]:
    """One result per input, in input order (value sets folded), across `settings.jobs`."""
    return list(iter_inputs(inputs, settings, progress))


def iter_inputs(
    inputs: list[Input], settings: RunSettings, progress: Progress | None = None
) -> Iterator[valuesets.Result]:
    """run_inputs one result at a time, each as soon as it and those before it are done."""
    jobs = valuesets.expand(inputs, settings)
    results = _run_all(jobs, settings.jobs, progress)
    return valuesets.merge_iter(jobs, results, settings.set_names)


def collect(report: Report, results: Iterable[valuesets.Result]) -> Report:
    for group_summary, findings, errors, warnings in results:
        report.groups.append(group_summary)
        report.findings.extend(findings)
        report.errors.extend(errors)
        report.warnings.extend(warnings)
    return report


def _run_all(
    jobs: list[valuesets.Job], workers: int, progress: Progress | None = None
) -> Iterator[valuesets.Result]:
    items, settings = [j[0] for j in jobs], [j[1] for j in jobs]
    if progress is not None:
        progress.start(
            [i.label + (f" [{j[2]}]" if j[2] else "") for i, j in zip(items, jobs, strict=True)]
        )
    if workers > 1 and len(jobs) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # A fork of a process whose Go runtime (Helm) is running has none of its threads
        # and deadlocks on the next render: fork (fast to start) only while Helm has not
        # been loaded here, spawn otherwise (tests and embedders may have rendered before).
        method = "spawn" if "helm_python" in sys.modules else "fork"
        context = multiprocessing.get_context(method)
        left = context.Value("i", len(items))  # inputs not done (`spare`)
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_pool_worker,
            initargs=(os.getpid(), left, workers),
        ) as pool:
            # Largest inputs first, so that the longest one (a big chart's trace) does not
            # start last while the other workers wait; results still come in input order.
            started = {i: pool.submit(_run_counted, items[i], settings[i]) for i in _by_size(items)}
            try:
                yield from _observed((started[i].result() for i in range(len(items))), progress)
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: the inputs being checked stop too
                _stop_workers(pool)
                raise
            except BaseException:  # a run ended early waits for no input not yet begun
                for future in started.values():
                    future.cancel()
                raise
        return
    lazy = (_run_one(i, s) for i, s in zip(items, settings, strict=True))
    _PHASE[0] = progress.phase if progress is not None else None
    try:
        yield from _observed(lazy, progress)
    finally:
        _PHASE[0] = None


# Where `_run_one` says what it is at (Progress.phase) when it runs in this process; a
# pool worker's inputs show their names only.
_PHASE: list[Callable[[str], None] | None] = [None]


def _phase(text: str) -> None:
    sink = _PHASE[0]
    if sink is not None:
        sink(text)


def _stop_workers(pool: Any) -> None:
    """End the pool's processes now. The executor has no public way to stop running work
    before Python 3.14 (terminate_workers), hence its private attributes: the processes,
    and the queue of inputs not yet handed over, whose feeding thread would otherwise keep
    the process from exiting while it waits to write to workers that are gone."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    queue = getattr(pool, "_call_queue", None)  # all three read first: shutdown drops them
    manager = getattr(pool, "_executor_manager_thread", None)
    # Not cancel_futures: Python 3.11's executor then fails on the cancelled ones (an
    # InvalidStateError traceback) when it finds its workers gone.
    pool.shutdown(wait=False)
    for proc in processes:
        proc.terminate()
    if queue is not None:
        queue.cancel_join_thread()
    # concurrent.futures' exit hook wakes the pool's manager thread through a pipe that
    # the thread closes as it ends, and checks it is open without a lock: caught between
    # the two, a stopped run printed "Exception ignored ... Bad file descriptor" (now and
    # then, at SIGTERM). Once the thread has ended, the hook finds the pipe closed.
    if manager is not None:
        manager.join(timeout=5)


def _by_size(items: list[Input]) -> list[int]:
    """The inputs' indexes, largest first (by bytes on disk; ties in input order)."""
    sizes = [input_bytes(item) for item in items]
    return sorted(range(len(items)), key=lambda i: -sizes[i])


def _observed(
    results: Iterable[valuesets.Result], progress: Progress | None
) -> Iterator[valuesets.Result]:
    """The results, in input order, each reported to `progress` as it arrives."""
    for result in results:
        if progress is not None:
            summary, findings = result[0], result[1]
            progress.done(summary.label, summary.seconds, summary.objects, len(findings))
        yield result


def _pool_worker(parent: int, left: Any, workers: int) -> None:
    from kubevet import signals, spare

    signals.pool_worker(parent)
    spare.share(left, workers)


def _run_counted(
    item: Input, settings: RunSettings
) -> tuple[GroupSummary, list[Finding], list[InputError], list[str]]:
    """`_run_one` in a pool process, counted done (`spare`) however it ends."""
    from kubevet import spare

    try:
        return _run_one(item, settings)
    finally:
        spare.done()


def _run_one(
    item: Input, settings: RunSettings
) -> tuple[GroupSummary, list[Finding], list[InputError], list[str]]:
    from kubevet.engine import check_group

    exiting.keep("input", None)  # the previous input's objects, freed before this one is read
    start = time.perf_counter()
    rules = settings.rules()
    limits.use(settings.limits)  # a spawned worker starts with the defaults
    goenv.tracing(settings.trace)  # the render worker's Go collector set for the run
    with gc_paused():
        _phase("rendering" if item.kind == "chart" else "reading")
        group = load_input(item, settings.helm, settings.cluster, settings.snapshot)
        _phase("checking")
        findings = check_group(group, rules, settings.options) if group.objects else []
        if settings.locate_lines:
            locate_lines(findings)
        if not _traced(group, findings):
            result = _result(group, findings, start)
            # What the input built (documents, objects, views) is freed here, while the
            # collector is still off: re-enabled with it alive, its first run walked all of
            # it (a twentieth of a check's CPU on the pre-rendered corpus). Or, in a process
            # that ends without freeing, kept to its end (freed by the next input's start).
            exiting.keep("input", group)
            del group
            return result
    _phase("tracing")
    _trace(group, findings, settings)
    return _result(group, findings, start)


def _traced(group: InputGroup, findings: list[Finding]) -> bool:
    """Whether `_trace` has anything to do for this input."""
    return bool(findings) and (group.chart is not None or any(f.origin.release for f in findings))


def _result(
    group: InputGroup, findings: list[Finding], start: float
) -> tuple[GroupSummary, list[Finding], list[InputError], list[str]]:
    for f in findings:
        f.obj = None  # objects stay in this process; findings travel light
    summary = _summary(group, time.perf_counter() - start)
    return summary, findings, list(group.errors), list(group.warnings)


_start_up_frozen = False


def _freeze_start_up() -> None:
    """Once per process, before the first check: what start-up built (modules, the rules)
    lives to the end, so the cycle collector need never walk it again. Only once: a later
    freeze would also keep whatever garbage an embedding program had not collected yet."""
    global _start_up_frozen
    if not _start_up_frozen:
        _start_up_frozen = True
        gc.freeze()


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cycle collector off while one input is read and checked. Parsed documents,
    objects and findings are many small containers without cycles: the collector kept
    walking them as they were built (about a twentieth of a check's CPU on the pre-rendered
    corpus). Tracing (marker renders through Helm) runs with it on, as before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _trace(group: InputGroup, findings: list[Finding], settings: RunSettings) -> None:
    """Chart findings to their template lines and values keys; cluster findings to the
    values of their Helm releases."""
    if group.chart and findings:
        from kubevet.trace.place import place_findings

        place_findings(findings)  # exact template lines by reading, without renders
    if any(f.origin.release for f in findings):  # a cluster's Helm releases: to their values
        from kubevet.sources.clustertrace import trace_cluster

        trace_cluster(group, findings, settings)
    if settings.trace and group.chart and findings:
        from kubevet.trace import trace_chart
        from kubevet.trace.cache import traced

        traced(group, findings, settings.helm, settings.trace_cache, trace_chart)


def _summary(group: InputGroup, seconds: float = 0.0) -> GroupSummary:
    chart = None
    if group.chart:
        chart = f"{group.chart.name} {group.chart.version}"
    return GroupSummary(
        group.label, group.source, len(group.objects), chart, group.skipped, seconds
    )


def locate_lines(findings: list[Finding]) -> None:
    """Set `line` on each finding to its field's line, composing each document once."""
    from kubevet.sources.yamldocs import locate_many

    # keyed by the document's text and index: the items of one List share their document
    by_doc: dict[tuple[int, int, int], tuple[Any, list[Finding], list[Path]]] = {}
    for f in findings:
        obj = f.obj
        doc = getattr(obj, "source", None)
        if doc is None:
            f.line = f.origin.line
            continue
        prefix = getattr(doc, "prefix", ())
        own = hasattr(doc, "locate")
        key = (id(doc), 0, 0) if own else (id(doc.text), doc.first_line, doc.index)
        _, items, paths = by_doc.setdefault(key, (doc, [], []))
        items.append(f)
        paths.append((*prefix, *f.path) if prefix else f.path)
    for doc, items, paths in by_doc.values():
        own = getattr(doc, "locate", None)  # non-YAML sources (Dockerfiles) locate themselves
        lines = own(paths) if own else locate_many(doc.text, doc.first_line, doc.index, paths)
        for f, line in zip(items, lines, strict=True):
            f.line = line or f.origin.line


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
