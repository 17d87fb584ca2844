"""The command line: a thin layer over the API. Exit 0 with a plan, 1 when no plan exists, 2 for bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from . import schema as S
from .compare import compare, format_compare
from .errors import BudgetOptError, InputError
from .export import FORMATS
from .frontier import budget_range, frontier, money_needed
from .io import (
    export_plan,
    format_of,
    read_mapping,
    read_scenario,
    read_touchpoints,
    scenario_data_path,
    write_plan,
    write_table,
)
from .mapping import parse_map_items
from .optimize import optimize
from .pricing import attach_whole_prices, price_rules
from .scenario import Budget, Objective, Scenario, Settings
from .silos import silo_cost
from .units import is_weighted, parse_amount

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

    v = sub.add_parser("validate", help="check a touchpoint file (CSV or Excel) and list every problem")
    v.add_argument("data", help="touchpoint file (CSV or .xlsx)")
    _input_options(v)

    o = sub.add_parser("optimize", help="reallocate the budget and print the summary")
    o.add_argument("data", help="touchpoint file (CSV or .xlsx)")
    _input_options(o)
    o.add_argument("--budget", type=_amount, help="total budget, e.g. 9000000 or 9,000,000 (default: today's total)")
    o.add_argument("--at-most", action="store_true", help="spend at most the budget instead of exactly")
    o.add_argument("--mode", choices=sorted(MODES), default="max-engaged")
    o.add_argument("--target", type=_amount,
                   help="min-spend: the engagement to keep, in --target-unit (default: today's); target-cpe: the "
                        "highest average cost per engaged customer")
    o.add_argument("--target-unit", choices=("weighted", "customers"), default="weighted",
                   help="what a min-spend target counts: weighted engagement (value x engaged customers; the "
                        "default) or engaged customers (the count); the same when the data has no value column")
    o.add_argument("--currency", help="three-letter code of the money, e.g. EUR (default: what the data's spend "
                                      "header or cells say)")
    o.add_argument("--siloed", action="store_true", help="every function keeps its share (vertical planning)")
    o.add_argument("--protect-stages", action="store_true", help="every stage keeps today's engaged customers")
    o.add_argument("--segments", type=int, default=Settings().segments, help="segments per response curve")
    o.add_argument("--solver", default=Settings().solver, help="PuLP solver name (default HiGHS)")
    o.add_argument("--out", help="write the plan here: .csv, .xlsx or .json (the extension picks the format)")
    o.add_argument("--format", choices=FORMATS, help="format of --out when its name has no known extension")
    o.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    r = sub.add_parser("run", help="run a scenario file: write the plan, print the summary and rule prices")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--data", help="touchpoint file to use instead of the scenario's own (may be anywhere)")
    r.add_argument("--out", help="folder to write the plan into (plan.xlsx, plan.csv, plan.json)")
    r.add_argument("--format", default=",".join(FORMATS), help="formats to write, e.g. xlsx,csv,json (default all)")
    r.add_argument("--force", action="store_true", help="overwrite files in --out")
    r.add_argument("--no-prices", action="store_true", help="skip the whole price of each rule")
    r.add_argument("--price-limit", type=int, default=50, metavar="N",
                   help="re-solve at most the N dearest of the data's own limits for their whole price (default 50)")

    c = sub.add_parser("compare", help="scenarios side by side")
    c.add_argument("scenarios", nargs="+", help="scenario TOML files")
    c.add_argument("--data", help="touchpoint file for every scenario instead of their own")

    f = sub.add_parser("frontier", help="the most engagement reachable at each budget")
    f.add_argument("scenario", help="scenario TOML file")
    f.add_argument("--data", help="touchpoint file to use instead of the scenario's own")
    f.add_argument("--from", dest="start", type=float, default=0.5, help="first budget, x today's (default 0.5)")
    f.add_argument("--to", dest="stop", type=float, default=1.5, help="last budget, x today's (default 1.5)")
    f.add_argument("--steps", type=int, default=21, help="number of budgets (default 21)")
    f.add_argument("--out", help="write the frontier here (CSV)")
    f.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    b = sub.add_parser("bench", add_help=False, help="measure speed and scale (budgetopt bench --help)")
    b.add_argument("options", nargs=argparse.REMAINDER, help="options of the benchmark")
    return parser


def _load(scenario_path: str, data: str | None):
    """The scenario, its touchpoints and the data file (from --data or, inside the project, the scenario)."""
    scenario = read_scenario(scenario_path)
    path = data if data else scenario_data_path(scenario, scenario_path)
    return scenario, read_touchpoints(path), path


def _run(args: argparse.Namespace) -> int:
    scenario, touchpoints, data_path = _load(args.scenario, args.data)
    plan = optimize(touchpoints, scenario)
    if scenario.description:
        print(scenario.description)
    print(plan.summary_text())
    if not plan.ok:
        return EXIT_NO_PLAN
    if scenario.siloed:
        print(silo_cost(touchpoints, scenario, vertical=plan).text())
    if not args.no_prices:
        prices = price_rules(touchpoints, scenario, plan, progress=_progress("pricing rules"),
                             data_limits=args.price_limit)
        attach_whole_prices(plan, prices, touchpoints)  # the Rules sheet of the export shows them
        costly = prices[prices["whole_price"] > 0].sort_values("whole_price", ascending=False)
        print("Whole price of each rule that binds (solved without it):" if len(costly) else
              "Whole price of the rules: none costs anything")
        for row in costly.itertuples():
            print(f"  - {row.rule}: {row.price_text}")
    if args.out:
        for path in export_plan(plan, args.out, args.format, force=args.force, source=data_path):
            print(f"Written: {path}")
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    plans, names = [], []
    for path in args.scenarios:
        scenario, touchpoints, _ = _load(path, args.data)
        plans.append(optimize(touchpoints, scenario))
        names.append(Path(path).stem)
    print(format_compare(compare(plans, names)).to_string())
    return EXIT_OK if all(p.ok for p in plans) else EXIT_NO_PLAN


def _frontier(args: argparse.Namespace) -> int:
    if args.steps < 2 or args.start < 0 or args.stop <= args.start:
        raise BudgetOptError("--steps needs at least 2 and --to must be above --from (both >= 0)")
    scenario, touchpoints, _ = _load(args.scenario, args.data)
    budgets = budget_range(touchpoints, args.start, args.stop, args.steps)
    curve = frontier(touchpoints, scenario, budgets, progress=_progress("frontier"))
    shown = curve.assign(
        budget=curve["budget"].map("{:,.0f}".format),
        weighted_engagement=curve["weighted_engagement"].map("{:,.0f}".format),
        engaged_customers=curve["engaged_customers"].map("{:,.0f}".format),
        marginal_cpe=curve["marginal_cpe"].map("{:,.2f}".format), marker=curve["marker"].str.upper())
    if not is_weighted(touchpoints[S.VALUE]):  # the two figures are the same: show the count only
        shown = shown.drop(columns="weighted_engagement")
    print(shown.to_string(index=False))
    reverse = money_needed(curve)
    print("\nThe reverse view, money needed for each engagement level:")
    print(reverse.assign(weighted_engagement=reverse["weighted_engagement"].map("{:,.0f}".format),
                         money_needed=reverse["money_needed"].map("{:,.0f}".format)).to_string(index=False))
    if args.out:
        path = write_table(curve, args.out, force=args.force)
        print(f"Frontier written to {path}")
    return EXIT_OK


def _progress(what: str):
    def report(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{what}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
        elif done == total or done % max(1, total // 4) == 0:
            print(f"{what}: {done}/{total}", file=sys.stderr, flush=True)

    return report


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--map", action="append", default=[], metavar="COLUMN=HEADER",
                        help='which header holds a column, e.g. --map spend=Cost --map engaged="Leads + Chats" '
                             "(a + sums number columns); repeatable")
    parser.add_argument("--mapping", metavar="FILE", help='TOML column mapping: spend = "Cost" per line')
    parser.add_argument("--sheet", help="Excel: the sheet with the table (default: the first)")


def _mapping(args: argparse.Namespace) -> dict | None:
    mapping = {**(read_mapping(args.mapping) if args.mapping else {}), **parse_map_items(args.map)}
    return mapping or None


def _notices(notices: Sequence[str]) -> None:
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)


def _amount(text: str) -> float:
    """An amount typed on the command line: 9000000, 9,000,000, 9.000.000 or 9 000 000."""
    try:
        return parse_amount(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _scenario(args: argparse.Namespace) -> Scenario:
    return Scenario(
        name=f"optimize {Path(args.data).name}",
        currency=args.currency,
        budget=Budget(total=args.budget, at_most=args.at_most),
        objective=Objective(mode=MODES[args.mode], target=args.target, unit=args.target_unit),
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
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        if getattr(args, "format", None) and not args.out:
            raise BudgetOptError("--format says how to write --out; give --out too")
        if getattr(args, "out", None):
            format_of(args.out, args.format)  # a name budgetopt cannot write fails before the work
        touchpoints = read_touchpoints(args.data, mapping=_mapping(args), sheet=args.sheet)
        _notices(touchpoints.attrs.get("notices", []))
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
            path = write_plan(plan, args.out, force=args.force, source=args.data,
                              fmt=args.format)
            print(f"Plan written to {path}")
        return EXIT_OK
    except InputError as exc:
        _notices(exc.notices)
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except BudgetOptError as exc:
        print(f"budgetopt: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


COMMANDS = {"run": _run, "compare": _compare, "frontier": _frontier}


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
