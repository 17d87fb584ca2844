"""python -m budgetopt.curves [N] [PERIODS]: time curve fitting on a synthetic history."""

import argparse

from .fit import bench

parser = argparse.ArgumentParser(prog="python -m budgetopt.curves", description=bench.__doc__)
parser.add_argument("n", nargs="?", type=int, default=1000, help="touchpoints (default 1000)")
parser.add_argument("periods", nargs="?", type=int, default=104, help="periods (default 104)")
args = parser.parse_args()
result = bench(args.n, args.periods)
print(f"fit_curves: {result['touchpoints']} touchpoints x {result['periods']} periods in {result['seconds']:.2f} s; "
      f"family as generated: {result['family_as_generated']:.0%}; verdicts: {result['verdicts']}")
