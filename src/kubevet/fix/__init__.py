"""`kubevet fix`: apply the fixes rules attach to findings, and prove them.

choose.py picks the fixes a run applies; run.py runs the check -> fix rounds of
manifests, chartfix.py those of charts, proven by prover.py; edits.py applies Edit lists
to plain data and compares before/after; manifests.py edits YAML text in place (untouched
bytes kept); chart.py writes a values override from the traced keys (lever 1); overlay.py,
postrender.py and jsonpatch.py make the post-render Kustomize patch set (lever 2);
templatepatch.py and templateproof.py the maintainer's template patch (lever 3);
levers.py says which lever each finding got; gate.py keeps any fix from raising a rule's
count; verify.py holds the checks every fix must pass before it is written; profile.py
reads functionality profiles; netpolgen.py generates NetworkPolicies; rbacnarrow.py
narrows roles to an audit log.
"""
