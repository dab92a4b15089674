"""The equivalents table (data/peer-checks.csv): shape, references, and the study's claims."""

from __future__ import annotations

from collections import Counter

from kubevet.rules.crossref import (
    RELATIONS,
    SOURCE_RE,
    UNVERIFIED,
    coverage,
    equivalent_ids,
    equivalents,
    peer_checks,
    peers,
    unified_table,
)
from kubevet.rules.registry import all_rules, get_rule


def test_every_row_has_a_known_tool_an_existing_rule_and_a_well_formed_source():
    tools = set(peers())
    for eq in peer_checks():
        where = f"{eq.tool} {eq.id} {eq.rule}"
        assert eq.tool in tools, where
        assert eq.id and eq.id == eq.id.strip(), where
        assert eq.rule == "" or get_rule(eq.rule) is not None, f"{where}: no such rule"
        assert eq.source == UNVERIFIED or SOURCE_RE.match(eq.source), f"{where}: {eq.source}"
        assert (
            eq.source == UNVERIFIED
            or eq.source.startswith(peers()[eq.tool]["repo"] + "/")
            or any(eq.source.startswith(r + "/") for r in peers()[eq.tool].get("former_repos", []))
            or (eq.tool == "kubescape" and eq.source.startswith("kubescape/"))
        ), f"{where}: source outside the peer's repository"


def test_relations_are_given_exactly_where_verified_and_covered():
    for eq in peer_checks():
        where = f"{eq.tool} {eq.id} {eq.rule}"
        if not eq.rule:
            assert eq.relation is None and eq.note.startswith("not covered"), where
        elif eq.verified:
            assert eq.relation in RELATIONS, where
        else:
            assert eq.relation is None, f"{where}: an unverified entry states no relation"
        assert eq.note, f"{where}: every row says what differs, or why it is not covered"


def test_no_duplicate_rows_and_uncovered_checks_have_one_row():
    pairs = Counter((eq.tool, eq.id, eq.rule) for eq in peer_checks())
    assert [p for p, n in pairs.items() if n > 1] == []
    for tool in peers():
        for check, rows in coverage(tool).items():
            if any(not e.rule for e in rows):
                assert len(rows) == 1, f"{tool} {check} is both covered and not covered"


def test_verified_peers_have_verified_rows_only_where_read():
    for tool, meta in peers().items():
        rows = [eq for eq in peer_checks() if eq.tool == tool]
        if not meta["verified"]:
            assert all(not eq.verified for eq in rows), tool


def test_every_native_id_the_study_claims_for_a_rule_is_accounted_for():
    """Each native id the study lists for a unified check a rule implements appears in the
    table for that tool: verified (against whatever rule it really matches), recorded as not
    covered, or kept as an explicit unverified claim."""
    known = {(eq.tool, eq.id) for eq in peer_checks()}
    table = unified_table()
    tools = set(peers())
    missing = []
    for r in all_rules():
        for check in r.unified:
            for tool in tools & set(table[check]):
                for native in filter(None, (table[check][tool] or "").split("|")):
                    if (tool, native) not in known:
                        missing.append((r.code, check, tool, native))
    removed = {
        ("kubescape", "C-0086"),  # cluster-only since its scanningScope change
        ("kubeaudit", "CapabilityOrSecurityContextMissing"),  # gone from capabilities.go
        ("polaris", "hostPathSet"),  # no such check in polaris checks/
        ("kubeaudit", "NamespaceHosthostIPCTrue"),  # misspelled in the study: NamespaceHostIPCTrue
        ("kubeaudit", "deprecatedapis"),  # an auditor's name; its result is DeprecatedAPIUsed
        ("kubeaudit", "netpols"),  # an auditor's name; its results are MissingDefaultDeny...
    }
    assert [m for m in missing if (m[2], m[3]) not in removed] == []


def test_known_corrections_hold():
    by = {(eq.tool, eq.id, eq.rule): eq for eq in peer_checks()}
    # KV401 stands beside KV402 for the peers' RBAC checks that a wildcard also satisfies
    for check in ("CKV_K8S_155", "CKV_K8S_156", "CKV_K8S_157", "CKV_K8S_158"):
        assert ("checkov", check, "KV401") in by and ("checkov", check, "KV402") in by
    assert by["checkov", "CKV_K8S_40", "KV102"].relation == "broader"
    assert ("kubescape", "C-0045", "KV124") not in by
    assert by["kubescape", "C-0045", "KV125"].relation == "narrower"
    assert ("kubescape", "C-0013", "KV106") not in by
    assert not [eq for eq in peer_checks() if eq.tool == "kubescape" and eq.id == "C-0086"]
    # kubeaudit's AppArmorInvalidAnnotation names a missing container, not a missing profile
    assert ("kubeaudit", "AppArmorInvalidAnnotation", "KV115") not in by
    # kubeaudit reads built-in types only: no custom-resource version check
    assert not [eq for eq in peer_checks() if eq.tool == "kubeaudit" and eq.rule == "KV703"]
    # the rules written for peer checks, and corrections from reading the checks' code
    assert by["trivy", "KSV-0123", "KV408"].relation == "broader"
    assert by["kubeaudit", "AppArmorInvalidAnnotation", "KV141"].relation == "broader"
    assert by["kubelinter", "dangling-networkpolicypeer-podselector", "KV610"].verified
    # KICS queries that read the object's own spec.containers check Pods only
    assert by["kics", "dd29336b-fe57-445b-a26e-e6aa867ae609", "KV105"].relation == "narrower"
    assert not [eq for eq in peer_checks() if eq.tool == "kics" and not eq.verified]
    # a peer that fails a missing request even beside a limit is not narrower than KV201/KV203
    for tool, check, code in (("checkov", "CKV_K8S_10", "KV203"), ("trivy", "KSV-0016", "KV201")):
        assert by[tool, check, code].relation == "related"


def test_rule_views_of_the_table():
    kv103 = get_rule("KV103")
    assert kv103 is not None
    assert "CKV_K8S_40" in equivalent_ids(kv103)["checkov"]
    eq = next(e for e in equivalents(kv103) if e.id == "CKV_K8S_40")
    assert eq.verified and len(eq.commit) == 40 and eq.repo_path.endswith(".py")
    assert eq.as_dict()["relation"] == "same"


def test_each_verified_peer_says_how_complete_its_listing_is():
    for tool, meta in peers().items():
        if meta["verified"]:
            assert str(meta.get("listed", "")).startswith(("complete", "partial")), tool
