"""`kubevet merge DIR/`: join the shard files of `check --shard I/N -o DIR/` into the report
(and exit code) one `kubevet check` of the same inputs would have given."""

from __future__ import annotations

import argparse
import os

from kubevet.commands._output import add_output_arguments
from kubevet.commands.check import FORMATS


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("directory", metavar="DIR", help="the directory the shards were written to")
    p.add_argument(
        "--fail-on", metavar="SEVERITY", help="lowest severity that fails the run (default: low)"
    )
    add_output_arguments(p, FORMATS, default=None)
    p.add_argument("--allow-empty", action="store_true", help="pass a run that checked nothing")
    p.add_argument("--statistics", action="store_true", help="count findings per rule")
    p.add_argument("--baseline", metavar="FILE", help="fail only on findings not in FILE")
    p.add_argument("--write-baseline", metavar="FILE", help="record the findings in FILE")
    p.add_argument("--config", metavar="FILE", help="config file (default: found by walking up)")


def run(args: argparse.Namespace) -> int:
    from kubevet import shard
    from kubevet.commands._output import parse_outputs
    from kubevet.commands.check import _load_baseline, fail_on_of, finish
    from kubevet.commands.exits import UsageError
    from kubevet.config import ConfigError, find_config, load_config
    from kubevet.result import Report
    from kubevet.runner import RunSettings, collect
    from kubevet.spool import FindingSpool

    try:
        config = load_config(args.config) if args.config else find_config()
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    fail_on_of(args, config)
    outputs = parse_outputs(args, FORMATS, str(config.get("format") or "text"))
    for target in [o.path for o in outputs if o.path] + [args.write_baseline]:
        if target and target.endswith(shard.SUFFIX) and os.path.isfile(target):
            raise UsageError(f"cannot write to {target}: it is a shard file merge reads")
    baseline = _load_baseline(args.baseline)
    try:
        header, items = shard.read(args.directory)
        run_settings = RunSettings(**header["rules"])
        rules, frameworks = run_settings.rules(), run_settings.frameworks
        report = Report(findings=FindingSpool(), rules=rules, frameworks=frameworks)
        collect(report, shard.results_of(items))  # read as it goes: memory stays flat
    except shard.ShardError as exc:  # raised before any report is written
        raise UsageError(str(exc)) from None
    args.paths = [args.directory]  # named in the "nothing was checked" error
    return finish(report, args, config, header["release"], baseline, outputs)
