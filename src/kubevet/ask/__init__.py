"""`kubevet ask`: a question in plain language, answered only from kubevet's own analyses.

The question is mapped to one analysis and its arguments (`intents`), the analysis runs as
the matching kubevet command would run it (`answer`), and the answer is phrased from that
command's own output. A language model, when configured (`llm`), may only choose the
analysis and reword the computed facts; whatever it states that the facts do not hold is
thrown away.
"""
