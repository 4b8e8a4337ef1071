"""The report: every table and figure of a run, read from its metric, timing and check files (``render``: what they
share; ``paper``: Tables 6.2 and 6.3 and the scorecard; ``timing``: Table 6.4 and Fig. 6.4; ``figures``: Figs. 6.2
and 6.3; ``forgetting`` and ``user_unlearning``: the tables beyond the paper)."""
