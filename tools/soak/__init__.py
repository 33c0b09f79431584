"""The soak: one headless app and ten CLI loops against a faulty simulator, then checks.

``python -m tools.soak --seconds 60`` (``make soak``; ``make soak-long`` runs ten minutes).
"""
