"""ChartInfo: the chart (or Helm release) an input group was rendered from
(`InputGroup.chart`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubevet.sources.releases import Release


@dataclass
class ChartInfo:
    """The chart an input group was rendered from."""

    name: str | None
    version: str | None
    path: str | None = None  # chart directory or archive; None for a stored Helm release
    user_values: dict[str, Any] = field(default_factory=dict)  # what the user's values set
    release: Release | None = None  # the Helm release a re-rendered chart comes from
    # The render's manifest texts by template and the names of all its templates: tracing
    # takes its plain render from them. None where the chart rendered was a rewritten copy.
    rendered: tuple[dict[str, str], frozenset[str]] | None = field(
        default=None, repr=False, compare=False
    )
