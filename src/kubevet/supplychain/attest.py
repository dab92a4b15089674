"""Attestations read from files or from the input stream, and what they prove per image.

A directory may hold in-toto statements (unsigned, as BuildKit stores them), DSSE envelopes
(`.intoto.jsonl` holds one per line) and Sigstore bundles. Each becomes an `Attestation`
with its statement and whether its signature was verified, and by whom.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from kubevet import jsontext
from kubevet.findings import InputError
from kubevet.supplychain.bundle import SigstoreTrust, is_bundle, open_bundle
from kubevet.supplychain.dsse import (
    IN_TOTO_PAYLOAD,
    EnvelopeResult,
    KeyLoadError,
    PublicKey,
    load_public_keys,
    open_envelope,
)

PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
SBOM_PREFIXES = ("https://spdx.dev/Document", "https://cyclonedx.org/bom")
STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")
FILE_SUFFIXES = (".json", ".jsonl", ".intoto", ".dsse", ".sigstore", ".att", ".yaml", ".yml")


@dataclass(frozen=True)
class Attestation:
    predicate_type: str
    subjects: tuple[tuple[str, str], ...]  # (name, "sha256:<hex>")
    predicate: dict[str, Any]
    source: str  # "file:line"
    verified: bool
    signer: str | None = None
    problem: str | None = None  # why not verified

    @property
    def is_provenance(self) -> bool:
        return self.predicate_type == PROVENANCE_V1

    @property
    def is_sbom(self) -> bool:
        return self.predicate_type.startswith(SBOM_PREFIXES)

    @property
    def builder_id(self) -> str:
        run = self.predicate.get("runDetails") or {}
        return str((run.get("builder") or {}).get("id") or "")

    @property
    def complete(self) -> bool:
        """SLSA Build L1 asks for buildType and externalParameters."""
        build = self.predicate.get("buildDefinition") or {}
        return bool(build.get("buildType")) and "externalParameters" in build


@dataclass(frozen=True)
class VerifyConfig:
    keys: tuple[str, ...] = ()
    trust: SigstoreTrust = field(default_factory=SigstoreTrust)


def is_attestation(data: Any) -> bool:
    """An in-toto statement, a DSSE envelope or a Sigstore bundle."""
    if not isinstance(data, dict):
        return False
    return (
        data.get("_type") in STATEMENT_TYPES
        or ("payloadType" in data and "payload" in data and "signatures" in data)
        or is_bundle(data)
    )


def read_document(
    data: Any, source: str, keys: list[PublicKey], trust: SigstoreTrust
) -> list[Attestation]:
    """The attestation(s) in one parsed document; [] when it is none."""
    if not isinstance(data, dict):
        return []
    if data.get("_type") in STATEMENT_TYPES:
        return _from_statement(data, source, None, "unsigned in-toto statement")
    if is_bundle(data):
        result = open_bundle(data, keys, trust)
    elif "payloadType" in data and "signatures" in data:
        result = open_envelope(data, keys)
    else:
        return []
    return _from_envelope(result, source) if result else []


def _from_envelope(result: EnvelopeResult, source: str) -> list[Attestation]:
    if result.payload_type != IN_TOTO_PAYLOAD:
        return []
    try:
        statement = jsontext.loads(result.payload)
    except ValueError:
        raise ValueError("envelope payload is not JSON") from None
    return _from_statement(statement, source, result.signer, result.problem)


def _from_statement(
    st: Any, source: str, signer: str | None, problem: str | None
) -> list[Attestation]:
    if not isinstance(st, dict) or st.get("_type") not in STATEMENT_TYPES:
        raise ValueError("payload is not an in-toto statement")
    subjects = []
    for sub in st.get("subject") or []:
        digest = (sub.get("digest") or {}) if isinstance(sub, dict) else {}
        if isinstance(digest.get("sha256"), str):
            subjects.append((str(sub.get("name", "")), "sha256:" + digest["sha256"].lower()))
    predicate = st.get("predicate") if isinstance(st.get("predicate"), dict) else {}
    verified = signer is not None and problem is None
    return [
        Attestation(
            str(st.get("predicateType", "")),
            tuple(subjects),
            predicate,
            source,
            verified,
            signer,
            problem,
        )
    ]


def load_path(path: str, config: VerifyConfig) -> tuple[list[Attestation], list[InputError]]:
    """Every attestation under a directory (or in one file), cached per process."""
    stamp = _stamp(path)
    return _load_cached(path, stamp, config)


def _stamp(path: str) -> tuple[tuple[str, int, int], ...]:
    """Every file's name, mtime and size: a changed file invalidates the cache."""
    out = []
    for file in _files(path):
        try:
            st = os.stat(file)
        except OSError:
            continue
        out.append((file, st.st_mtime_ns, st.st_size))
    return tuple(out)


@lru_cache(maxsize=8)
def _load_cached(
    path: str, _stamp: tuple[tuple[str, int, int], ...], config: VerifyConfig
) -> tuple[list[Attestation], list[InputError]]:
    if not os.path.exists(path):
        return [], [InputError(path, "attestations: no such file or directory")]
    try:
        keys = load_public_keys(list(config.keys))
    except KeyLoadError as exc:
        return [], [InputError(path, f"attestation keys: {exc}")]
    out: list[Attestation] = []
    errors: list[InputError] = []
    for file in _files(path):
        atts, errs = _read_file(file, keys, config.trust)
        out.extend(atts)
        errors.extend(errs)
    return out, errors


def _files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path]
    found = []
    for directory, dirs, names in os.walk(path):
        dirs.sort()
        found.extend(os.path.join(directory, n) for n in sorted(names) if n.endswith(FILE_SUFFIXES))
    return found


def _read_file(
    path: str, keys: list[PublicKey], trust: SigstoreTrust
) -> tuple[list[Attestation], list[InputError]]:
    from kubevet.sources.reader import read_text

    try:
        text = read_text(path)
    except InputError as err:
        return [], [err]
    out: list[Attestation] = []
    errors: list[InputError] = []
    for line, doc in _documents(text, path):
        if isinstance(doc, InputError):
            errors.append(doc)
            continue
        try:
            out.extend(read_document(doc, f"{path}:{line}", keys, trust))
        except ValueError as exc:
            errors.append(InputError(path, f"bad attestation: {exc}", line))
    return out, errors


def _documents(text: str, path: str) -> list[tuple[int, Any]]:
    """Whole-file JSON or YAML, else JSON Lines (one envelope or bundle per line)."""
    try:
        if path.endswith((".yaml", ".yml")):
            from kubevet.sources.yamldocs import parse_stream

            parsed, errors = parse_stream(text, path)  # depth and alias guards
            if errors:
                return [(e.line or 1, e) for e in errors]
            return [(1, d.data) for d in parsed]
        return [(1, jsontext.loads(text))]
    except ValueError:
        pass
    docs: list[tuple[int, Any]] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            docs.append((number, jsontext.loads(line)))
        except ValueError as exc:
            docs.append((number, InputError(path, f"invalid JSON: {exc}", number)))
    return docs
