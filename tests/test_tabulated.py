"""Response curves given as points: the shapes Meridian, Robyn and PyMC-Marketing write, checks, padding, matching."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import io
from budgetopt.curves.tabulated import curves_from_table

FILES = Path(__file__).parent / "files" / "curves"
MERIDIAN = {"touchpoint": "channel", "engaged": "incremental_outcome"}


def curves(text: str, mapping=None) -> bo.curves.tabulated.TabulatedCurves:
    return io.read_curves(text.encode("utf-8"), name="curves.csv", mapping=mapping)


def refused(text: str, mapping=None) -> list[tuple]:
    with pytest.raises(bo.InputError) as caught:
        curves(text, mapping)
    return [(p.row, p.column, p.value, p.message) for p in caught.value.problems]


# --- the marketing-mix tools' shapes ----------------------------------------------------------------------------


def test_meridian_long_form_metric_rows():
    """Analyzer.response_curves(...).to_dataframe().reset_index(): one row per channel, metric and multiplier."""
    read = io.read_curves(FILES / "meridian_long.csv", mapping=MERIDIAN)
    source = pd.read_csv(FILES / "meridian_long.csv")
    assert read.names == ["Channel0", "Channel1"]
    assert list(read.points) == [11, 11] and list(read.has_band) == [True, True]
    for i, channel in enumerate(read.names):
        rows = source[source["channel"] == channel].pivot(index="spend", columns="metric",
                                                          values="incremental_outcome")
        np.testing.assert_array_equal(read.spend[i], rows.index.to_numpy())
        np.testing.assert_array_equal(read.engaged[i], rows["mean"].to_numpy())
        np.testing.assert_array_equal(read.lower[i], rows["ci_lo"].to_numpy())
        np.testing.assert_array_equal(read.upper[i], rows["ci_hi"].to_numpy())
    assert list(read.concave) == [True, False]  # Hill slope 0.8 vs 2.2 (S-shaped)
    assert "not used: spend_multiplier" in read.notices


def test_meridian_pivoted_and_planner_sheet_read_the_same_points():
    long = io.read_curves(FILES / "meridian_long.csv", mapping=MERIDIAN)
    wide = io.read_curves(FILES / "meridian_wide.csv", mapping={"touchpoint": "channel", "engaged": "mean"})
    for name in ("spend", "engaged", "lower", "upper"):
        np.testing.assert_array_equal(getattr(wide, name), getattr(long, name))
    assert "not used: spend_multiplier, current_spend" in wide.notices
    planner = io.read_curves(FILES / "meridian_planner.csv")  # Channel, Spend, Incremental Outcome by name
    np.testing.assert_array_equal(planner.engaged, long.engaged)
    assert not planner.has_band.any() and "not used: Group ID" in planner.notices


def test_meridian_planner_with_two_optimisations_is_refused():
    text = (FILES / "meridian_planner.csv").read_text()
    lines = text.splitlines()
    second = [line.replace("6f1c2a9e", "00000000").replace(",0.0,0.0", ",0.0,0.0") for line in lines[1:3]]
    second[1] = second[1].rsplit(",", 1)[0] + ",1.0"
    problems = refused("\n".join([*lines, *second]) + "\n")
    assert problems == [(25, "Incremental Outcome (engaged)", 1.0, "touchpoint 'Channel0' has spend 502462 on row 3 "
                         "too, with other engagement")]


def test_robyn_allocator_curves():
    """write.csv(AllocatorCollect$plots$p3$data): R's row names first, then plotDT_scurve and constraint labels."""
    read = io.read_curves(FILES / "robyn_allocator.csv",
                          mapping={"touchpoint": "channel", "engaged": "total_response"})
    assert read.names == ["tv_S", "facebook_S"]
    assert list(read.points) == [21, 21] and not read.has_band.any()
    assert list(read.concave) == [False, True]  # Hill alpha 2.1 (S-shaped) vs 0.9
    assert read.spend[0, 1] == 2052 and read.engaged[0, 1] == pytest.approx(95000 / (1 + (14000 / 2052) ** 2.1))
    assert "column A has values but no header; it was not read" in read.notices
    assert any(n.startswith("not used: mean_carryover, carryover_response, constr_label") for n in read.notices)


def test_pymc_marketing_sweep_draws_are_summarised():
    """SensitivityAnalysis.run_sweep(...).to_dataframe(name="contribution").reset_index() plus a spend column."""
    read = io.read_curves(FILES / "pymc_sweep.csv", mapping={"touchpoint": "channel", "engaged": "contribution"})
    source = pd.read_csv(FILES / "pymc_sweep.csv")
    x1 = source[source["channel"] == "x1"].groupby("spend")["contribution"]
    assert read.names == ["x1", "x2"] and list(read.points) == [9, 9]
    np.testing.assert_allclose(read.engaged[0], x1.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(read.lower[0], x1.quantile(0.05).to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(read.upper[0], x1.quantile(0.95).to_numpy(), rtol=1e-12)
    assert list(read.concave) == [True, True]
    assert "summarised 20 draws per point: the point is their mean, the band their 5 %-95 % range" in read.notices


# --- points, padding, band --------------------------------------------------------------------------------------


def test_sorted_padded_and_started_at_zero():
    read = curves("Touchpoint,Spend,Engaged,ci_lo,ci_hi\nB,200,30,25,35\nA,0,0,0,0\nB,100,20,15,25\nA,10,5,4,6\n"
                  "A,30,10,8,12\nA,20,8,6,9\n")
    assert read.names == ["B", "A"]
    np.testing.assert_array_equal(read.spend, [[0, 100, 200, np.nan], [0, 10, 20, 30]])
    np.testing.assert_array_equal(read.engaged, [[0, 20, 30, np.nan], [0, 5, 8, 10]])
    np.testing.assert_array_equal(read.lower, [[0, 15, 25, np.nan], [0, 4, 6, 8]])
    assert list(read.points) == [3, 4] and list(read.has_band) == [True, True]
    assert list(read.concave) == [True, True]
    assert "'B': the curve starts at (0, 0) (the file's first point has spend above 0)" in read.notices
    np.testing.assert_allclose(read.evaluate([150, 25]), [25, 9])  # linear between points
    np.testing.assert_allclose(read.evaluate([0, 30]), [0, 10])
    assert np.isnan(read.evaluate([201, 31])).all()  # no extrapolation
    np.testing.assert_allclose(read.evaluate([150, 25], "upper"), [30, 10.5])
    table = read.table()
    assert list(table.columns) == ["touchpoint", "spend", "engaged", "lower", "upper"] and len(table) == 7


def test_convex_stretch_flags_the_curve():
    read = curves("touchpoint,spend,engaged\nS,0,0\nS,10,1\nS,20,5\nS,30,8\nC,0,0\nC,10,5\nC,20,9\nC,30,9\n")
    assert list(read.concave) == [False, True]
    assert "'S': the curve has a convex stretch" in read.notices[-1]


def test_repeated_points_are_read_once():
    read = curves("touchpoint,spend,engaged\nA,0,0\nA,10,5\nA,10,5\nA,20,8\n")
    assert list(read.points) == [3]
    assert "1 repeated point(s) (same touchpoint, spend and engagement) read once" in read.notices


def test_names_matched_without_case_and_spaces():
    read = curves("touchpoint,spend,engaged\nTV  prime,0,0\ntv prime,10,5\n")
    assert read.names == ["TV  prime"] and list(read.points) == [2]


def test_negative_band_values_are_zero():
    read = curves("touchpoint,spend,engaged,lower,upper\nA,0,0,-1,1\nA,10,5,-2,9\n")
    np.testing.assert_array_equal(read.lower, [[0, 0]])
    assert any(n.startswith("band values below 0 read as 0 (2 point(s))") for n in read.notices)


# --- refused ------------------------------------------------------------------------------------------------------


def test_every_problem_at_once():
    problems = refused("touchpoint,spend,engaged,lower,upper\nA,0,0,0,0\nA,x,5,4,6\nA,20,-1,0,1\n,30,9,8,10\n"
                       "B,10,5,6,7\nB,20,6,5,5.5\n")
    assert problems == [
        (3, "spend", "x", "is not a number"), (4, "engaged", "-1", "is negative"),
        (5, "touchpoint", "", "is empty"), (6, "lower", 6.0, "the band's lower value is above the point"),
        (7, "upper", 5.5, "the band's upper value is below the point")]


def test_falling_engagement_is_an_error():
    problems = refused("channel,spend,revenue_per_spend\nA,0,0\nA,10,5\nA,20,4\n", {"engaged": "revenue_per_spend"})
    assert problems == [(4, "revenue_per_spend (engaged)", 4.0,
                         "engaged falls from 5 at spend 10 to 4 at spend 20 (touchpoint 'A')")]


def test_a_single_point_is_not_a_curve():
    assert refused("touchpoint,spend,engaged\nA,10,5\nB,0,0\nB,10,5\n") == [
        (2, "touchpoint", "A", "a curve needs at least 2 points; this touchpoint has 1")]


def test_same_spend_with_different_engagement():
    assert refused("touchpoint,spend,engaged\nA,0,0\nA,10,5\nA,10,6\n") == [
        (4, "engaged", 6.0, "touchpoint 'A' has spend 10 on row 3 too, with other engagement")]


def test_meridian_rows_checked():
    assert refused("channel,metric,spend,incremental_outcome\nA,mean,0,0\nA,p50,0,0\n") == [
        (3, "metric", "p50", "is not a metric budgetopt reads")]
    assert refused("channel,metric,spend,incremental_outcome\nA,mean,0,0\nA,mean,10,5\nA,ci_lo,20,4\n"
                   "A,mean,20,6\nA,mean,30,7\nA,ci_hi,40,9\n") == [
        (7, "metric", None, "this touchpoint and spend have no mean row")]


def test_missing_columns_and_unknown_targets():
    problems = refused("name,amount\nA,1\n")
    assert problems == [(None, "engaged", None, "the curves file has no column for it")]
    assert refused("touchpoint,spend,engaged\nA,0,0\n", {"response": "engaged"})[0][1:] == (
        "response", None, "is not a column of this table")


# --- matching -----------------------------------------------------------------------------------------------------


def test_match_aligns_to_a_touchpoint_table():
    read = curves("touchpoint,spend,engaged\nSearch  Ads,0,0\nSearch  Ads,10,6\nTV,0,0\nTV,100,20\nTV,200,30\n"
                  "Radio,0,0\nRadio,5,1\n")
    table = bo.validate_touchpoints(pd.DataFrame({"touchpoint": ["tv", "Chat", "search ads"], "function": "f",
                                                  "channel": "c", "spend": [100, 10, 10], "engaged": [20, 5, 6]}))
    matched = read.match(table)
    assert matched.curves.names == ["tv", "Chat", "search ads"]
    assert list(matched.index) == [1, -1, 0]
    assert matched.missing == ["Chat"] and matched.unused == ["Radio"]
    np.testing.assert_array_equal(matched.curves.spend, [[0, 100, 200], [np.nan] * 3, [0, 10, np.nan]])
    assert list(matched.curves.concave) == [True, True, True]
    assert matched.notices == ["no curve for 'Chat'", "curves for no touchpoint of the table: 'Radio'"]
    np.testing.assert_allclose(matched.curves.evaluate([150, 1, 5]), [25, np.nan, 3])


# --- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10_000), min_size=2, max_size=12, unique=True), st.floats(0.2, 1.0),
       st.booleans())
def test_concave_flag_and_evaluation_at_the_points(spends, power, bend):
    """Points of e = s^p (p <= 1) are concave; raising one inner point's slope after a flat start bends it.
    Between its points the curve is linear; at them it returns the file's values."""
    spends = np.sort(np.asarray(spends, dtype=float))
    engaged = spends**power
    if bend and len(spends) >= 3:
        engaged = np.r_[spends[:-1] * 1e-6, engaged[-1] + spends[-1]]  # flat, then steep: convex
    text = "touchpoint,spend,engaged\n" + "".join(f"A,{float(s)!r},{float(e)!r}\n"
                                                  for s, e in zip(spends, engaged, strict=True))
    read = curves_from_table(io.read_table(text.encode(), name="p.csv"))
    assert bool(read.concave[0]) == (not (bend and len(spends) >= 3))
    given_spend = read.spend[0][np.isfinite(read.spend[0])]
    for s, e in zip(spends, engaged, strict=True):
        assert read.evaluate([s])[0] == pytest.approx(e, rel=1e-12, abs=1e-12)
    middle = (given_spend[:-1] + given_spend[1:]) / 2
    values = np.array([read.evaluate([m])[0] for m in middle])
    lows, highs = read.engaged[0][: len(middle)], read.engaged[0][1: len(middle) + 1]
    np.testing.assert_allclose(values, (lows + highs) / 2, rtol=1e-12, atol=1e-12)


CELLS = st.sampled_from(["", "A", "b", " a ", "0", "1", "2", "5", "-1", "1.5", "1,5", "x", "1e400", "mean", "ci_lo",
                         "ci_hi", "median", "p50", "10", "20", "=1+1"])
HEADERS = st.sampled_from(["touchpoint", "channel", "spend", "engaged", "incremental_outcome", "lower", "upper",
                           "ci_lo", "ci_hi", "metric", "sample", "mean", "extra"])


@settings(max_examples=150, deadline=None)
@given(st.lists(HEADERS, min_size=1, max_size=6, unique=True),
       st.lists(st.lists(CELLS, min_size=6, max_size=6), max_size=10))
def test_any_table_reads_or_is_refused(headers, rows):
    """Random small tables of tricky cells: curves that hold together, or an InputError, never another exception."""
    text = ",".join(headers) + "\n" + "".join(",".join(r[: len(headers)]) + "\n" for r in rows)
    try:
        read = curves(text)
    except bo.InputError as exc:
        assert exc.problems
        return
    given_ = np.isfinite(read.spend)
    assert (read.points >= 2).all() and (read.spend[:, 0] == 0).all()
    assert (np.diff(np.where(given_, read.spend, np.inf), axis=1)[given_[:, 1:]] > 0).all()  # strictly rising
    assert (np.diff(read.engaged, axis=1)[given_[:, 1:]] >= -1e-9).all()
    assert read.match(read.names).missing == []


# --- beyond the last point, when the user allows it ---------------------------------------------------------------

def test_points_continued_at_their_last_slope():
    from budgetopt.curves.text import continue_points

    nan = np.nan
    spend = np.array([[0.0, 100.0, 200.0], [0.0, 50.0, nan], [40.0, nan, nan]])
    engaged = np.array([[0.0, 60.0, 100.0], [0.0, 30.0, nan], [10.0, nan, nan]])
    xs, es = continue_points(spend, engaged, np.array([1.5, 1.0, 2.0]))
    assert xs[0, 3] == 300.0 and es[0, 3] == 140.0  # slope 40/100 on past 200
    assert np.isnan(xs[1, 2:]).all()  # factor 1: as it was
    assert (xs[2, 1], es[2, 1]) == (80.0, 20.0)  # one point: the piece from (0, 0) to it, continued


CURVES = ("touchpoint,spend,engaged\nA,0,0\nA,100,60\nA,200,100\nB,0,0\nB,100,50\nB,200,70\n")
TABLE = "touchpoint,function,channel,spend,engaged\nA,marketing,tv,100,60\nB,marketing,search,100,50\n"


def test_a_plan_stops_at_the_last_point_unless_the_user_lets_it_go_on(tmp_path, capsys):
    from budgetopt.cli import main
    from budgetopt.evidence import with_curves

    table = bo.read_touchpoints(TABLE.encode(), name="t.csv")
    given = curves(CURVES)
    at_most = bo.Scenario(budget=bo.Budget(total=500.0, at_most=True))
    held = bo.optimize(with_curves(table, given).table, at_most)
    assert held.table["proposed_spend"].tolist() == pytest.approx([200.0, 200.0])  # both at their last points
    assert any(line.startswith("2 touchpoints are planned at the last point of their tabulated curve")
               for line in held.basis.lines())
    evidence = with_curves(table, given, beyond=1.5)
    assert "continued beyond their last point up to 1.5x" in evidence.notices[-1]
    plan = bo.optimize(evidence.table, bo.Scenario(budget=bo.Budget(total=500.0)))
    # A's last slope (0.4) beats B's (0.2): the extra 100 goes to A, up to 1.5 x 200 = 300 at most
    assert plan.table["proposed_spend"].tolist() == pytest.approx([300.0, 200.0], abs=1e-6)
    assert plan.table["proposed_engaged"].tolist() == pytest.approx([140.0, 70.0], abs=1e-6)
    guard = plan.binding_rules[plan.binding_rules["rule"].str.contains("1.5x the last point of its tabulated")]
    assert len(guard) == 1 and "'A'" in guard["rule"].iloc[0]
    from budgetopt.rule_words import plain_rules

    said = plain_rules(plan, evidence.table)
    assert "A may get at most 1.5x the last point of its tabulated curve, continued at its last slope (300)" in \
        said["limit"].tolist()
    (tmp_path / "t.csv").write_text(TABLE)
    (tmp_path / "c.csv").write_text(CURVES)
    assert main(["optimize", str(tmp_path / "t.csv"), "--curves", str(tmp_path / "c.csv"), "--budget", "500",
                 "--curves-beyond", "1.5"]) == 0
    assert "at most 1.5x the last point of its tabulated curve, continued at its last slope) of 'A'" in \
        capsys.readouterr().out
    assert main(["optimize", str(tmp_path / "t.csv"), "--curves-beyond", "1.5"]) == 2
    assert main(["optimize", str(tmp_path / "t.csv"), "--curves", str(tmp_path / "c.csv"),
                 "--curves-beyond", "0.5"]) == 2


def test_curve_beyond_in_a_table_is_checked():
    text = TABLE.replace("engaged\n", "engaged,curve_beyond\n").replace("60\n", "60,0.5\n").replace("50\n", "50,2\n")
    with pytest.raises(bo.InputError) as caught:
        bo.read_touchpoints(text.encode(), name="t.csv")
    found = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert (2, "curve_beyond", "is below 1") in found
    assert (3, "curve_beyond", "applies to tabulated curves only") in found


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_plan_on_tabulated_curves_reads_back_and_plans_again(tmp_path, capsys, suffix):
    """plan.csv and the workbook's Plan sheet carry the points and curve_beyond, and no elasticity on their rows."""
    from budgetopt.cli import main

    (tmp_path / "t.csv").write_text(TABLE.replace("\n", ",power\n").replace("engaged,power", "engaged,curve", 1)
                                    + "C,sales,chat,100,40,power\n")
    (tmp_path / "c.csv").write_text(CURVES)
    out = tmp_path / f"p.{suffix}"
    assert main(["optimize", str(tmp_path / "t.csv"), "--curves", str(tmp_path / "c.csv"), "--budget", "600",
                 "--curves-beyond", "1.5", "--out", str(out)]) == 0
    sheet = pd.read_csv(out) if suffix == "csv" else pd.read_excel(out, sheet_name="Plan", engine="openpyxl").iloc[:-1]
    sheet.columns = [str(c).lower().replace(" ", "_") for c in sheet.columns]
    assert sheet["curve_points"].tolist()[:2] == ["0:0 100:60 200:100", "0:0 100:50 200:70"]
    assert sheet["curve_points"].isna().tolist() == [False, False, True]
    assert sheet["curve_beyond"].tolist()[:2] == [1.5, 1.5]
    assert sheet["elasticity"].isna().tolist() == [True, True, False]  # 0.6 only where a power curve uses it
    capsys.readouterr()
    assert main(["optimize", str(out)]) == 0
    read = bo.read_touchpoints(out.read_bytes(), name=out.name)
    assert read["curve"].tolist() == ["tabulated", "tabulated", "power"]
    assert read["curve_beyond"].tolist()[:2] == [1.5, 1.5]
    assert read["spend"].tolist() == pytest.approx(sheet["proposed_spend"].tolist())


def test_a_scenario_with_curves_beyond_names_its_curves():
    with pytest.raises(ValueError, match="curves_beyond = 1.5 says how far the curves of a curves file"):
        bo.Scenario(curves_beyond=1.5)
    assert bo.Scenario(curves="c.csv", curves_beyond=1.5).curves_beyond == 1.5
