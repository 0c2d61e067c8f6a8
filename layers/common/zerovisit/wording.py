"""Counted nouns in messages people read: '1 problem', '2 problems'."""


def counted(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count} {singular if count == 1 else plural or singular + 's'}"
