"""Counts shown to clients: 1–10 is shown as "fewer than 11" (small-cell suppression)."""


def client_facing_count(count: int, language: str = "en") -> str:
    if count == 0:
        return "0"
    if 1 <= count <= 10:
        return "menos de 11" if language == "es" else "fewer than 11"
    return f"{count:,}"
