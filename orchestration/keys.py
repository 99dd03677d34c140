"""The names of the per-source assets: one place builds them, every module asks here."""


def raw(source: str) -> str:
    """Every row a source delivered, as text with lineage."""
    return f"raw_{source}"


def files(source: str) -> str:
    """Every file a source delivered, and how it was read."""
    return f"files_{source}"


def std(source: str) -> str:
    """A source's latest rows, standardised, with their rule outcomes."""
    return f"std_{source}"


def ingest(source: str) -> str:
    """The step that reads a source: it makes `raw` and `files`."""
    return f"ingest_{source}"


def std_checks(source: str) -> str:
    return f"check_std_{source}"
