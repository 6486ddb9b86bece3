"""What the trust sees of it all: the pipeline read model (``pipeline``), the dashboards' scopes,
figures and action lists, exports, the board report, the audit-log search, nudges, the tutor
records that bring training, results and endorsement together, and the synthetic national
dataset for measuring."""
