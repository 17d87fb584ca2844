"""The command line: a thin layer over the API. Exit 0 with a plan, 1 when no plan exists, 2 for bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .errors import BudgetOptError, InputError
from .io import read_touchpoints, write_plan
from .optimize import optimize
from .scenario import Budget, Objective, Scenario, Settings

EXIT_OK, EXIT_NO_PLAN, EXIT_BAD_INPUT = 0, 1, 2
MODES = {"max-engaged": "max_engaged", "min-spend": "min_spend", "target-cpe": "target_cpe"}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors are bad input too
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"budgetopt: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = _Parser(prog="budgetopt", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    v = sub.add_parser("validate", help="check a touchpoint CSV and list every problem")
    v.add_argument("data", help="touchpoint CSV")

    o = sub.add_parser("optimize", help="reallocate the budget and print the summary")
    o.add_argument("data", help="touchpoint CSV")
    o.add_argument("--budget", type=float, help="total budget (default: today's total)")
    o.add_argument("--at-most", action="store_true", help="spend at most the budget instead of exactly")
    o.add_argument("--mode", choices=sorted(MODES), default="max-engaged")
    o.add_argument("--target", type=float,
                   help="min-spend: engaged customers to keep (default today's); target-cpe: highest average CPE")
    o.add_argument("--siloed", action="store_true", help="every function keeps its share (vertical planning)")
    o.add_argument("--protect-stages", action="store_true", help="every stage keeps today's engaged customers")
    o.add_argument("--segments", type=int, default=Settings().segments, help="segments per response curve")
    o.add_argument("--solver", default=Settings().solver, help="PuLP solver name (default HiGHS)")
    o.add_argument("--out", help="write the plan here (CSV)")
    o.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    b = sub.add_parser("bench", add_help=False, help="measure speed and scale (budgetopt bench --help)")
    b.add_argument("options", nargs=argparse.REMAINDER, help="options of the benchmark")
    return parser


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(
        name=f"optimize {args.data}",
        budget=Budget(total=args.budget, at_most=args.at_most),
        objective=Objective(mode=MODES[args.mode], target=args.target),
        siloed=args.siloed,
        protect_stages=args.protect_stages,
        settings=Settings(segments=args.segments, solver=args.solver),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # its options are the benchmark's own (argparse would not pass them through)
        from .bench import main as bench

        return bench(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        touchpoints = read_touchpoints(args.data)
        if args.command == "validate":
            print(f"{args.data}: {len(touchpoints)} touchpoints, no problems found")
            return EXIT_OK
        try:
            scenario = _scenario(args)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise BudgetOptError(_pydantic_words(exc)) from exc
        plan = optimize(touchpoints, scenario)
        print(plan.summary_text())
        if not plan.ok:
            return EXIT_NO_PLAN
        if args.out:
            path = write_plan(plan, args.out, force=args.force)
            print(f"Plan written to {path}")
        return EXIT_OK
    except InputError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BudgetOptError as exc:
        print(f"budgetopt: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _pydantic_words(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'scenario'}: {e['msg']}" for e in errors())


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        code = 0
        sys.stdout = None
    sys.exit(code)


if __name__ == "__main__":  # python -m budgetopt.cli
    run()
