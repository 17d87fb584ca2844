"""The command line: a thin layer over the API. Exit 0 with a plan, 1 when no plan exists, 2 for bad input."""

from __future__ import annotations

import argparse
import gc
import importlib
import math
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from . import schema as S
from .errors import BudgetOptError, InputError
from .evidence import DRAWS, SEED, plan_range
from .export import FORMATS
from .io import (
    atomic_write,
    export_plan,
    format_of,
    frontier_csv,
    number_words,
    read_evidence,
    read_mapping,
    read_scenario,
    read_table,
    scenario_data_path,
    write_files,
    write_plan,
    write_table,
)
from .mapping import parse_map_items
from .optimize import optimize
from .scenario import Budget, Objective, Periods, Scenario, Settings
from .schema import MAX_FACTOR
from .seasonality import for_plan
from .terminal import safe_output
from .units import is_weighted, parse_amount

# What only some commands need (rule prices, silos, comparisons, the frontier, robust plans, sweeps, fitting,
# reports) is imported inside them: a command loads only the libraries it uses.

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

    v = sub.add_parser("validate", help="check a touchpoint file or a history (CSV or Excel) and list every problem")
    v.add_argument("data", help="touchpoint file (CSV or .xlsx), or a history (a date column, rows per period)")
    _input_options(v)
    _history_options(v)

    o = sub.add_parser("optimize", help="reallocate the budget and print the summary")
    o.add_argument("data", help="touchpoint file (CSV or .xlsx), or a history: then its curves are fitted first")
    _input_options(o)
    _history_options(o)
    o.add_argument("--curves", metavar="FILE", help="response curves as points (touchpoint, spend, engaged; an MMM "
                                                    "tool's export): the touchpoints they name plan on them")
    o.add_argument("--curves-map", action="append", default=[], metavar="COLUMN=HEADER",
                   help="which header of --curves holds a column, e.g. --curves-map touchpoint=channel "
                        "--curves-map engaged=incremental_outcome; repeatable")
    o.add_argument("--curves-beyond", type=_factor, default=1.0, metavar="FACTOR",
                   help="let the plan take a --curves curve up to FACTOR x its last point, continued at its last "
                        "slope (an assumption; default 1: never beyond the last point the model gave)")
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
    o.add_argument("--periods", metavar="HORIZON", type=_horizon,
                   help="plan over time: the horizon as a count and a kind of period, e.g. 12m (months), 4q, 13p "
                        "(four-week periods) or 26w; a history's seasonality and carry-over are taken into account")
    o.add_argument("--siloed", action="store_true", help="every function keeps its share (vertical planning)")
    o.add_argument("--protect-stages", action="store_true", help="every stage keeps today's engaged customers")
    o.add_argument("--segments", type=int, default=Settings().segments, help="segments per response curve")
    o.add_argument("--solver", default=Settings().solver, help="PuLP solver name (default HiGHS)")
    o.add_argument("--out", help="write the plan here: .csv, .xlsx or .json (the extension picks the format)")
    o.add_argument("--format", choices=FORMATS, help="format of --out when its name has no known extension")
    o.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    _draw_options(o)
    o.add_argument("--robust", metavar="KIND",
                   help="plan over the draws: 'mean' (best on average), 'cvar:0.1' (protect the downside: the best "
                        "average of the worst 10 %% of draws) or 'floor:0.1' (best on average with the worst 10 %% "
                        "no worse than today's allocation; floor:0.1:AMOUNT for another floor)")

    w = sub.add_parser("sweep", help="plan scenario files at many budgets, each with its range over draws of the "
                                     "curves, on a Dask cluster (local by default)")
    w.add_argument("scenarios", nargs="+", help="scenario TOML files")
    w.add_argument("--data", help="touchpoint file (or history) for every scenario instead of their own")
    w.add_argument("--budgets", default="1", help="budgets as multiples of today's total: START:STOP:COUNT "
                                                  "(0.8:1.2:9) or a list (0.9,1,1.1); default 1")
    _draw_options(w, default=200)
    w.add_argument("--robust", metavar="KIND", help="plan each over the draws: mean, cvar:0.1 or floor:0.1 "
                                                    "(as in optimize)")
    w.add_argument("--scheduler", metavar="ADDRESS",
                   help="a running Dask scheduler, e.g. tcp://10.0.0.5:8786 (default: $BUDGETOPT_SCHEDULER, else a "
                        "local cluster of worker processes on this machine)")
    w.add_argument("--workers", type=int, help="worker processes of the local cluster (default: the machine's "
                                               "cores); 0 runs the tasks one by one in this process")
    w.add_argument("--out", required=True, help="results: .parquet (pyarrow) or .csv, one row per scenario x budget")
    w.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    t = sub.add_parser("fit", help="fit a response curve per touchpoint to a history (or ad export); print the "
                                   "fit table and write a touchpoint table")
    t.add_argument("data", help="history file (CSV or .xlsx): a date or period column, one row per touchpoint "
                                "and period (or per ad and day)")
    _input_options(t)
    _history_options(t)
    t.add_argument("--out", help="write the fitted touchpoint table here (CSV): a valid input for optimize")
    t.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    r = sub.add_parser("run", help="run a scenario file: write the plan, print the summary and rule prices")
    r.add_argument("scenario", help="scenario TOML file")
    r.add_argument("--data", help="touchpoint file to use instead of the scenario's own (may be anywhere)")
    r.add_argument("--out", help="folder to write the plan into (plan.xlsx, plan.csv, plan.json; a plan over periods "
                                 "adds plan_wide.csv)")
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

    p = sub.add_parser("report", help="the one-page report of a scenario, as PDF or HTML")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--data", help="touchpoint file to use instead of the scenario's own")
    p.add_argument("--out", required=True, help="report.pdf or report.html (the extension picks the format)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")

    b = sub.add_parser("bench", add_help=False, help="measure speed and scale (budgetopt bench --help)")
    b.add_argument("options", nargs=argparse.REMAINDER, help="options of the benchmark")
    return parser


def _load(scenario_path: str, data: str | None):
    """The scenario, its touchpoints (fitted when the data is a history, with the scenario's curves) and the data
    file (from --data or, inside the project, the scenario's)."""
    scenario = read_scenario(scenario_path)
    path = data if data else scenario_data_path(scenario, scenario_path)
    curves = scenario_data_path(scenario, scenario_path, "curves") if scenario.curves else None
    evidence = read_evidence(path, window=scenario.window, curves=curves, curves_mapping=scenario.curves_map or None,
                             curves_beyond=scenario.curves_beyond)
    _notices(evidence.notices)
    return scenario, evidence, path


def _planned(evidence, scenario: Scenario):
    """The table a scenario is planned on: over periods, with the seasonality its history shows (a notice says
    so)."""
    table = for_plan(evidence, scenario)
    if table is not evidence.table:
        _notices(table.attrs.get("notices", [])[len(evidence.table.attrs.get("notices", [])):])
    return table


def _run(args: argparse.Namespace) -> int:
    from .pricing import attach_whole_prices, price_rules
    from .silos import silo_cost

    scenario, evidence, data_path = _load(args.scenario, args.data)
    touchpoints = _planned(evidence, scenario)
    plan = optimize(touchpoints, scenario)
    plan.range = plan_range(plan, evidence)
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
    from .compare import compare, format_compare

    plans, names = [], []
    for path in args.scenarios:
        scenario, evidence, _ = _load(path, args.data)
        touchpoints = _planned(evidence, scenario)
        plans.append(optimize(touchpoints, scenario))
        names.append(Path(path).stem)
    print(format_compare(compare(plans, names)).to_string())
    return EXIT_OK if all(p.ok for p in plans) else EXIT_NO_PLAN


def _frontier(args: argparse.Namespace) -> int:
    from .frontier import budget_range, frontier, money_needed, plan_note

    if not (math.isfinite(args.start) and math.isfinite(args.stop)) or args.stop > MAX_FACTOR:
        raise BudgetOptError(f"--from {args.start:g} --to {args.stop:g}: give finite numbers, at most "
                             f"{MAX_FACTOR:,.0f} (times today's budget)")
    if args.steps < 2 or args.steps > 1000 or args.start < 0 or args.stop <= args.start:
        raise BudgetOptError("--steps needs 2 to 1,000 and --to must be above --from (both >= 0)")
    scenario, evidence, _ = _load(args.scenario, args.data)
    touchpoints = _planned(evidence, scenario)
    budgets = budget_range(touchpoints, args.start, args.stop, args.steps)
    curve = frontier(touchpoints, scenario, budgets, progress=_progress("frontier"))
    def count(v: float) -> str:
        return f"{v:,.0f}" if math.isfinite(v) else "-"  # a budget without a plan has no engagement

    planned = (curve["status"] == "optimal").to_numpy() & curve["weighted_engagement"].notna().to_numpy()
    shown = curve.assign(
        budget=curve["budget"].map("{:,.0f}".format),
        weighted_engagement=curve["weighted_engagement"].map(count),
        engaged_customers=curve["engaged_customers"].map(count),
        marginal_cpe=[(f"{v:,.2f}" if math.isfinite(v) else "none (buys no more)") if ok else "-"
                      for v, ok in zip(curve["marginal_cpe"].tolist(), planned, strict=True)],
        marker=curve["marker"].str.upper())
    counted = "weighted_engagement"
    if not is_weighted(touchpoints[S.VALUE]):  # the two figures are the same: show the count only
        shown, counted = shown.drop(columns="weighted_engagement"), "engaged_customers"
    print(shown.to_string(index=False))
    if note := plan_note(curve, scenario.settings.segments, counted):
        print(note)
    reverse = money_needed(curve, counted)
    print("\nThe reverse view, money needed for each engagement level:")
    print(reverse.assign(**{counted: reverse[counted].map("{:,.0f}".format)},
                         money_needed=reverse["money_needed"].map("{:,.0f}".format)).to_string(index=False))
    if args.out:  # where more money buys nothing, the marginal CPE has no value: an empty cell, not "inf"
        data = frontier_csv(curve, scenario.settings.rounding)
        path = atomic_write(args.out, lambda tmp: Path(tmp).write_bytes(data), force=args.force)
        print(f"Frontier written to {path}")
    return EXIT_OK


def _report(args: argparse.Namespace) -> int:
    from .ui.board_report import report_html, report_pdf

    kind = Path(args.out).suffix.lower()
    if kind not in (".pdf", ".html", ".htm"):
        raise BudgetOptError(f"--out {args.out}: the report is written as .pdf or .html; name the file so")
    if Path(args.out).exists() and not args.force:
        raise BudgetOptError(f"{args.out} already exists; pass --force to overwrite it")
    scenario, evidence, data_path = _load(args.scenario, args.data)
    touchpoints = _planned(evidence, scenario)
    plan = optimize(touchpoints, scenario)
    plan.range = plan_range(plan, evidence)
    html = report_html(plan, touchpoints, source=Path(data_path).name)
    data = report_pdf(html) if kind == ".pdf" else html.encode("utf-8")
    path = write_files({args.out: data}, force=args.force)[0]
    print(f"Report written to {path}" + ("" if plan.ok else " (no plan: it says why)"))
    return EXIT_OK if plan.ok else EXIT_NO_PLAN


def _progress(what: str):
    def report(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{what}: {done}/{total}", end="\n" if done == total else "", file=sys.stderr, flush=True)
        elif done == total or done % max(1, total // 4) == 0:
            print(f"{what}: {done}/{total}", file=sys.stderr, flush=True)

    return report


def _draw_options(parser: argparse.ArgumentParser, default: int | None = None) -> None:
    parser.add_argument("--draws", type=int, default=default,
                        help="joint draws of the curves for the plan's range (fits by their covariance, tabulated "
                             f"curves within their band; default {default or DRAWS})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"seed of the draws (default {SEED}): the same seed, "
                                                               "the same draws")
    parser.add_argument("--uncertainty", type=float, metavar="U",
                        help="a stated +/- on engagement for curves without evidence of their uncertainty, e.g. 0.2 "
                             "(an assumption: 90 %% of draws within +/-20 %%, independent across touchpoints)")


def _check_draws(args: argparse.Namespace) -> None:
    """Refuse --draws outside 1 to MAX_DRAWS, a negative --seed or an --uncertainty outside 0 to 1 before any work
    (BudgetOptError: exit 2)."""
    from .draws import check_draw_settings

    check_draw_settings(DRAWS if args.draws is None else args.draws, args.uncertainty, args.seed)


def _input_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--map", action="append", default=[], metavar="COLUMN=HEADER",
                        help='which header holds a column, e.g. --map spend=Cost --map engaged="Leads + Chats" '
                             "(a + sums number columns); repeatable")
    parser.add_argument("--mapping", metavar="FILE", help='TOML column mapping: spend = "Cost" per line')
    parser.add_argument("--sheet", help="Excel: the sheet with the table (default: the first)")


def _history_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--touchpoint", metavar="COLUMN",
                        help="history: the column whose values are touchpoints, e.g. \"Campaign name\" (rows of one "
                             "touchpoint and period are summed)")
    parser.add_argument("--window", help="history: the periods that make today, e.g. 52w, 26w, 12m, 90d or all "
                                         "(default: the last 52 weeks, or all of a shorter history)")


def _evidence(args: argparse.Namespace):
    """The touchpoint table of the data file: read as it is, or fitted when it is a history; then with --curves."""
    if getattr(args, "curves_beyond", 1.0) > 1.0 and not getattr(args, "curves", None):
        raise BudgetOptError("--curves-beyond says how far a --curves curve may be taken; give --curves FILE too")
    return read_evidence(args.data, mapping=_mapping(args), sheet=args.sheet, touchpoint=args.touchpoint,
                         window=args.window, curves=getattr(args, "curves", None),
                         curves_mapping=parse_map_items(getattr(args, "curves_map", []), "--curves-map") or None,
                         curves_beyond=getattr(args, "curves_beyond", 1.0))


def _validate(args: argparse.Namespace) -> int:
    """Check a touchpoint table, or a history as `optimize` and `fit` read it (today = its window), and say so."""
    from .history import history_from_table, is_history

    raw = read_table(args.data, sheet=args.sheet)
    mapping = _mapping(args)
    if is_history(raw, mapping, args.touchpoint):
        history = history_from_table(raw, mapping, touchpoint=args.touchpoint, window=args.window)
        today = history.today()
        notices = today.attrs.get("notices", [])
        _notices(notices)
        unit = "week" if history.frequency == "weekly" else "month"

        def count(n: int, what: str) -> str:
            return f"{n:,} {what}" + ("" if n == 1 else "s")

        print(f"{args.data}: a history of {count(len(history.names), 'touchpoint')} over "
              f"{count(len(history.periods), unit)} ({history.periods[0].date()} to {history.periods[-1].date()}, "
              f"{history.input_frequency} rows); today: {count(len(today), 'touchpoint')} with spend and engaged "
              f"customers in the last {count(history.window.periods, unit)}; no problems found"
              + (f" ({len(notices)} note(s) above on how it was read)" if notices else "")
              + f". Fit its curves: budgetopt fit {args.data}")
        return EXIT_OK
    if args.touchpoint or args.window:
        raise BudgetOptError(f"{args.data} is not a history (no date or period column beside several rows per "
                             "touchpoint): --touchpoint and --window apply to histories only")
    from .ingest import to_touchpoints

    touchpoints = to_touchpoints(raw, mapping)
    notices = touchpoints.attrs.get("notices", [])
    _notices(notices)
    print(f"{args.data}: {len(touchpoints):,} touchpoints, no problems found"
          + (f" ({len(notices)} note(s) above on how it was read)" if notices else ""))
    return EXIT_OK


def _fit(args: argparse.Namespace) -> int:
    from .export import inputs_table
    from .history import history_from_table, is_history

    raw = read_table(args.data, sheet=args.sheet)
    mapping = _mapping(args)
    if not is_history(raw, mapping, args.touchpoint):
        raise BudgetOptError(f"{args.data} is not a history: fitting needs a date or period column and several rows "
                             "per touchpoint (name the date column with --map date=COLUMN)")
    from .evidence import from_history

    evidence = from_history(history_from_table(raw, mapping, touchpoint=args.touchpoint, window=args.window))
    _notices(evidence.notices)
    print(_fit_text(evidence.report(), evidence.table))
    if args.out:
        path = write_table(inputs_table(evidence.table), args.out, force=args.force)
        print(f"Fitted touchpoint table written to {path} (plan on it with: budgetopt optimize {path})")
    return EXIT_OK


def _fit_words(table) -> list[str]:
    """Each fitted curve's parameters per period in a few words: 'elasticity 0.75', 'at most 290,518 engaged, half
    at 443,908 spend', with 'carry-over 0.57' where a share of a period's spend works in the next periods."""
    words = []
    for row in table.itertuples(index=False):
        curve, parts = getattr(row, S.CURVE, ""), []
        engaged, spend = getattr(row, "curve_engaged", math.nan), getattr(row, S.SPEND, math.nan)
        if curve == "linear" and spend > 0 and math.isfinite(engaged):
            parts.append(f"{1000 * engaged / spend:,.1f} engaged per 1,000 spend")
        elif curve == "power":
            parts.append(f"elasticity {row.elasticity:.2f}")
        elif curve in ("saturating", "hill") and math.isfinite(getattr(row, "saturation", math.nan)):
            parts.append(f"at most {row.saturation:,.0f} engaged, half at {row.half_saturation:,.0f} spend")
            if curve == "hill" and math.isfinite(getattr(row, "shape", math.nan)):
                parts.append(f"shape {row.shape:.2f}")
        carry = getattr(row, "carryover", math.nan)
        if isinstance(carry, float) and math.isfinite(carry) and carry > 0.005:
            parts.append(f"carry-over {carry:.2f}")
        words.append(", ".join(parts))
    return words


def _fit_text(report, table=None) -> str:
    """The fit table for a terminal: weakest fits first, quality as percentages, the curves' parameters."""
    shown = report.copy()
    if table is not None and S.CURVE in shown:
        words = dict(zip(table[S.TOUCHPOINT], _fit_words(table), strict=True))
        shown.insert(shown.columns.get_loc(S.CURVE) + 1, "parameters (per period)",
                     shown[S.TOUCHPOINT].map(words).fillna(""))
    if "periods_with_spend" in shown:
        shown["periods_with_spend"] = shown["periods_with_spend"].map(lambda v: "" if v != v else f"{v:,.0f}")
    for column in ("fit_r2_holdout",):
        if column in shown:
            shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:.2f}")
    if "fit_mape_holdout" in shown:
        shown["fit_mape_holdout"] = shown["fit_mape_holdout"].map(lambda v: "" if v != v else f"{v:.0%}")
    for column in ("observed_spend_min", "observed_spend_max"):
        if column in shown:
            shown[column] = shown[column].map(lambda v: "" if v != v else f"{v:,.0f}")
    shown = shown.rename(columns={"fit_verdict": "verdict", "fit_r2_holdout": "R2 held-out",
                                  "fit_mape_holdout": "MAPE held-out", "periods_with_spend": "periods with spend",
                                  "observed_spend_min": "spend min/period", "observed_spend_max": "spend max/period",
                                  "fit_reason": "why", S.CURVE_SOURCE: "source"})
    return shown.to_string(index=False)


def _mapping(args: argparse.Namespace) -> dict | None:
    mapping = {**(read_mapping(args.mapping) if args.mapping else {}), **parse_map_items(args.map)}
    return mapping or None


def _notices(notices: Sequence[str]) -> None:
    for notice in notices:
        print(f"note: {notice}", file=sys.stderr)


def _horizon(text: str) -> str:
    """A horizon typed on the command line: 12m, 4q, 13p or 26w."""
    from .horizon import parse_horizon

    try:
        parse_horizon(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _factor(text: str) -> float:
    """A multiple typed on the command line, from 1 to MAX_FACTOR."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and 1.0 <= value <= MAX_FACTOR):
        raise argparse.ArgumentTypeError(f"'{text}' is not a multiple from 1 to {MAX_FACTOR:,.0f} (e.g. 1.5)")
    return value


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
        periods=Periods(horizon=args.periods) if args.periods else None,
        settings=Settings(segments=args.segments, solver=args.solver),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code. Control characters in what it prints are shown as escapes."""
    with safe_output():
        return _main(sys.argv[1:] if argv is None else list(argv))


_BENCHMARKS = {  # budgetopt bench --X: the module that measures it
    "--reading": "bench_reading",  # reading files against pandas
    "--curves": "bench_curves",  # fitting, S-curve MIPs, accuracy
    "--risk": "bench_risk",  # draws, risk, CVaR plans and sweeps on Dask
    "--periods": "bench_periods",  # plans over time: touchpoints x periods
    "--cli": "bench_cli",  # the whole optimize command against an end-to-end floor
}


def _main(argv: list[str]) -> int:
    if argv[:1] == ["bench"] and len(argv) > 1 and argv[1] in _BENCHMARKS:  # each benchmark's module, imported when run
        module = importlib.import_module(f".{_BENCHMARKS[argv[1]]}", __package__)
        return module.main(argv[2:])
    if argv[:1] == ["bench"]:  # its options are the benchmark's own (argparse would not pass them through)
        from .bench import main as bench

        return bench(argv[1:])
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # usage errors (exit 2, the message printed) and --help (exit 0) return their code
        return int(exc.code or 0) if isinstance(exc.code, int | None) else EXIT_BAD_INPUT
    try:
        if args.command in COMMANDS:
            return COMMANDS[args.command](args)
        if getattr(args, "format", None) and not args.out:
            raise BudgetOptError("--format says how to write --out; give --out too")
        if getattr(args, "out", None):
            format_of(args.out, args.format)  # a name budgetopt cannot write fails before the work
        if args.command == "validate":
            return _validate(args)
        _check_draws(args)  # optimize: before the work
        evidence = _evidence(args)
        _notices(evidence.notices)
        try:
            scenario = _scenario(args)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise BudgetOptError(_pydantic_words(exc)) from exc
        touchpoints = _planned(evidence, scenario)
        draws = args.draws or DRAWS
        if args.robust:
            from .robust import Robust, robust_plan

            if scenario.periods is not None:
                raise BudgetOptError("--robust plans over draws of the curves for one period; a plan over periods "
                                     "(--periods) has no robust form yet: give one of the two")
            plan = robust_plan(evidence, scenario, Robust.parse(args.robust), draws, args.seed, args.uncertainty)
        else:
            plan = optimize(touchpoints, scenario)
            plan.range = plan_range(plan, evidence, draws, args.seed, uncertainty=args.uncertainty)
            if plan.ok and plan.range is None and (args.draws or args.uncertainty is not None):
                _notices(["no curve varies over the draws (none rests on a fit or a band): state an uncertainty "
                          "for the others, e.g. --uncertainty 0.2"])
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
    except OSError as exc:  # a path the system refuses (too long, a device, ...): the user's input too
        print(f"budgetopt: {exc.strerror or exc}: {str(exc.filename)[:200]}; check the path", file=sys.stderr)
        return EXIT_BAD_INPUT


def _sweep(args: argparse.Namespace) -> int:
    from .io import write_results
    from .robust import Robust
    from .sweep import (
        NO_RANGE,
        Case,
        budget_factors,
        check_robust,
        connect,
        local_client,
        own_money,
        scheduler_address,
        sweep,
    )

    factors = budget_factors(args.budgets)
    _check_draws(args)
    robust = Robust.parse(args.robust) if args.robust else None
    if Path(args.out).exists() and not args.force:
        raise BudgetOptError(f"{args.out} already exists; pass --force to overwrite it")
    if args.workers is not None and not 0 <= args.workers <= 256:
        raise BudgetOptError(f"--workers {args.workers}: give 0 to 256 (0: one by one in this process)")
    cases = []
    for path in args.scenarios:
        scenario, evidence, _ = _load(path, args.data)
        cases.append(Case(Path(path).stem, evidence, scenario))
    check_robust(cases, robust, args.seed, args.uncertainty)  # before a cluster starts
    once = [c.name for c in cases if own_money(c.scenario)]
    if once:
        _notices([f"{', '.join(once)}: planned once, at the money the scenario sets itself (a min-spend scenario "
                  "finds its own budget; [periods] budgets fix each period's money): one row, budget_factor = its "
                  "plan's spend / today's; the budgets were not swept for it"])
    address = scheduler_address(args.scheduler)
    client = None
    if address:
        client = connect(address)
        where = f"the Dask cluster at {address} ({len(client.scheduler_info()['workers'])} workers)"
    elif args.workers != 0:
        client = local_client(args.workers)
        where = f"a local Dask cluster of {len(client.scheduler_info()['workers'])} worker processes"
    else:
        where = "this process, one task after another"
    print(f"Sweeping {len(cases)} scenario(s) x {len(factors)} budget(s) x {args.draws:,} draws (seed {args.seed}) "
          f"on {where}", file=sys.stderr)
    try:
        results = sweep(cases, factors, args.draws, args.seed, args.uncertainty, robust, client,
                        progress=_progress("sweep"))
    finally:
        if client is not None:
            cluster = client.cluster if not address else None
            client.close()
            if cluster is not None:
                cluster.close()
    path = write_results(results, args.out, force=args.force)
    empty = sorted(set(results.loc[results["message"].str.contains(NO_RANGE, regex=False), "scenario"]))
    if empty:
        _notices([f"{', '.join(empty)}: {NO_RANGE} (each row's message says so)"])
    bad = results[~results["status"].isin(["optimal"])]
    print(f"{len(results):,} rows (one per scenario x budget) written to {path}"
          + (f"; {len(bad)} without a plan (see status and message)" if len(bad) else ""))
    return EXIT_OK if bad.empty else EXIT_NO_PLAN


COMMANDS = {"run": _run, "compare": _compare, "frontier": _frontier, "fit": _fit, "report": _report,
            "sweep": _sweep}


def _pydantic_words(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return str(exc)
    return "; ".join(f"{_FLAGS.get('.'.join(map(str, e['loc'])), '.'.join(map(str, e['loc'])) or 'scenario')}: "
                     f"{number_words(e) or e['msg']}" for e in errors())


_FLAGS = {"total": "--budget", "target": "--target", "segments": "--segments"}


def run() -> None:
    """Console-script entry point. A polite kill (SIGTERM) ends it like Ctrl-C: files being written are removed."""
    signal.signal(signal.SIGTERM, _terminated)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        code = 0
        sys.stdout = None
    gc.freeze()  # the process ends here: its objects are freed without the last collections walking them all
    sys.exit(code)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


if __name__ == "__main__":  # python -m budgetopt.cli
    run()
