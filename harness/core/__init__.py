"""The bottom layer: registries, atomic writes, seeds and provenance."""
