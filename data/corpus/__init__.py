"""The labelled relevance corpus (JSON Lines files), installed as ``outage_signals.corpus``.

See docs/labeling.md for what the labels and kinds mean.
"""
