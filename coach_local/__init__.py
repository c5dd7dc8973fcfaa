import coach_local.font_imports  # noqa: F401  (first: it keeps fontTools from loading modules no letter uses)
