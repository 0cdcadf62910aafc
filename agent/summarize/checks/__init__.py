"""Checks of what a model wrote against the paper it is attached to (no model involved):
`right_paper` (which paper of a call a text describes, by BM25) and `figures` (numbers and
names the title and abstract state). The model engine runs them on every blurb before keeping
it (`summarize.llm.steps.blurb_checks`), the junk checks and the headline's use `figures`, and
the evals score with both (`evals.scorers_checks`)."""
