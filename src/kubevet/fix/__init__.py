"""`kubevet fix`: apply the fixes rules attach to findings, and prove them.

edits.py applies Edit lists to plain data and compares before/after; manifests.py edits
YAML text in place (untouched bytes kept); chart.py writes a values override from the
traced keys; verify.py holds the checks every fix must pass before it is written;
profile.py reads functionality profiles (what a container needs).
"""
