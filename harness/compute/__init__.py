"""Explanations computed and kept: the content-addressed store, replay, the runner, chunks and engines (local, Ray)."""
