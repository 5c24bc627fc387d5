"""`make bench`: what a Step 6 job costs and how fast Step 6 and resume are (issue 6).

Figures, not pass/fail timings: the machines are shared and noisy, so compare the ratios
measured within one run. `python -m bench.run [--smoke] [--out DIR]`.
"""
