"""`digest init`: ask a few questions (or read flags) and write a commented digest.toml.

`command` (flags, what is printed), `questions` (the interactive part), `answers` (validated
answers), `write` (the Jinja2 template rendered, checked, written), `schedule_lines` (cron and
systemd lines). Kept import-free so that `digest --help` stays fast.
"""
