"""Did it work? Each campaign measures what members did next against a holdout (docs/outcomes.md): the holdout
drawn before the letters (holdout.py), the outcome query over the claims filled since (sql.py), the difference
with its 95% interval (stats.py), and who hears about it (service.py, notices.py)."""
