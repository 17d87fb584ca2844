"""Histories and ad-platform exports: every accepted shape, exact sums, dark periods, windows, refusals."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from conftest import SAMPLE
from hypothesis import given, settings
from hypothesis import strategies as st

import budgetopt as bo
from budgetopt import io
from budgetopt.dates import parse_dates
from budgetopt.history import history_from_table, is_history

FILES = Path(__file__).parent / "files" / "history"


def read(text: str, **options) -> bo.history.History:
    return io.read_history(text.encode("utf-8"), name="history.csv", **options)


def refused(text: str, **options) -> bo.InputError:
    with pytest.raises(bo.InputError) as caught:
        read(text, **options)
    return caught.value


def weekly(weeks: int, start: str = "2024-01-01", names=("A", "B")) -> str:
    """A weekly history: touchpoint A spends 100 + week and engages 10 + week; B spends 50 and engages 5."""
    days = pd.date_range(start, periods=weeks, freq="7D")
    lines = ["week,touchpoint,function,channel,spend,engaged"]
    for w, day in enumerate(days):
        lines.append(f"{day.date()},{names[0]},marketing,tv,{100 + w},{10 + w}")
        lines.append(f"{day.date()},{names[1]},service,chat,50,5")
    return "\n".join(lines) + "\n"


# --- real-shaped files ------------------------------------------------------------------------------------------


def test_daily_ad_export_summed_by_campaign_into_whole_weeks():
    """Shape of Fivetran's ad_reporting model (pymc-marketing data/fivetran_examples/ad_report_schema.csv)."""
    history = io.read_history(FILES / "ads_daily.csv", touchpoint="campaign_name")
    assert history.frequency == "weekly" and history.input_frequency == "daily"
    assert list(history.periods.date) == [dt.date(2025, 6, 30), dt.date(2025, 7, 7)]
    names, spend, engaged, observed = history.matrices()
    assert names == ["Back to School", "Summer Sale", "Retargeting", "Awareness Push"]
    # Back to School, week of 06-30: 100 + 80 + 110, 10 + 6 + 11; week of 07-07: 120 + 90, 12 + 0
    np.testing.assert_array_equal(spend, [[290, 210], [560, 0], [40, 30], [0, 275]])
    np.testing.assert_array_equal(engaged, [[27, 12], [55, 0], [0, 0], [0, 9]])
    np.testing.assert_array_equal(observed, [[1, 1], [1, 1], [1, 1], [0, 1]])
    long = history.long.set_index(["touchpoint", "period"])
    assert long.loc[("Summer Sale", pd.Timestamp("2025-07-07")), "rows"] == 0  # a dark week
    assert len(history.long) == 7  # Awareness Push starts in the second week
    notices = "\n".join(history.notices)
    assert "left out 2 row(s) of the week(s) of 2025-06-23, 2025-07-14 (spend 110.00)" in notices
    assert "40 day(s) without a row in 4 touchpoint(s)" in notices  # 11 + 12 + 12 + 5
    assert "1 row(s) with no conversions (engaged) read as 0 (first: row 14)" in notices
    assert "summed over ad_group_id, ad_group_name, ad_id, ad_name" in notices
    assert "not used: clicks, impressions, conversions_value" in notices
    assert "every touchpoint is 'marketing'" in notices
    assert "1 dark week(s) in 1 touchpoint(s) ('Summer Sale')" in notices
    assert "2 period(s) with spend and no one engaged, kept" in notices
    assert list(history.touchpoints["channel"]) == ["Google Ads", "Facebook Ads", "Facebook Ads", "TikTok Ads"]
    assert list(history.touchpoints["account_name"]) == ["Acme Corp", "Globex Inc", "Globex Inc", "Umbrella LLC"]

    today = history.today()
    assert list(today["touchpoint"]) == ["Back to School", "Summer Sale", "Awareness Push"]
    assert list(today["spend"]) == [500, 560, 275]
    assert list(today["engaged"]) == [39, 55, 9]
    assert today.attrs["periods"] == 2
    assert any("left out 'Retargeting': spend and no one engaged in the window (70.00" in n
               for n in today.attrs["notices"])


def test_campaign_name_is_recognised_without_the_option():
    history = io.read_history(FILES / "ads_daily.csv")
    assert history.names[0] == "Back to School"


def test_ads_manager_export_with_results_and_reporting_dates():
    """Column names of a Meta Ads Manager export (one row per ad and day)."""
    history = read("Reporting starts,Reporting ends,Campaign name,Ad set name,Ad name,Amount spent (EUR),Results,"
                   "Result indicator,Impressions\n"
                   "2024-03-04,2024-03-04,Spring,Broad,Ad 1,\"1,234.50\",12,actions:lead,4000\n"
                   "2024-03-04,2024-03-04,Spring,Lookalike,Ad 2,100.00,3,actions:lead,900\n"
                   "2024-03-11,2024-03-11,Spring,Broad,Ad 1,90.25,,actions:lead,700\n")
    assert history.input_frequency == "weekly"
    assert history.matrices()[1].tolist() == [[1334.5, 90.25]] and history.matrices()[2].tolist() == [[15, 0]]
    assert "not used: Reporting ends (dates; the periods come from 'Reporting starts (date)')" in history.notices
    assert "rows of a touchpoint in one period were summed over Ad set name, Ad name" in history.notices
    assert list(history.touchpoints["Result indicator"]) == ["actions:lead"]


def test_another_column_as_touchpoint():
    history = io.read_history(FILES / "ads_daily.csv", touchpoint="ad_group_name")
    assert history.names == ["Search - Brand", "Search - Generic", "Carousel Ads", "Video Ads", "Site Visitors",
                             "In-Feed"]
    # campaign_name is constant per ad group: a tag; ad_id and ad_name are too (one ad per ad group here)
    assert list(history.touchpoints["campaign_name"])[:2] == ["Back to School", "Back to School"]
    np.testing.assert_array_equal(history.matrices()[1][:2], [[210, 120], [80, 90]])


def test_weekly_semicolon_file_with_title_totals_and_decimal_commas():
    history = io.read_history(FILES / "weekly_semicolon.csv")
    assert history.input_frequency == "weekly"
    names, spend, engaged, observed = history.matrices()
    assert names == ["TV prime time", "Live chat", "Search ads"]
    np.testing.assert_array_equal(spend, [[10000, 12000, 0, 11000], [1500.5, 0, 1600.25, 1550], [0, 0, 2000, 2100]])
    np.testing.assert_array_equal(engaged, [[1000, 1150, 0, 1100], [300, 0, 310, 305], [0, 0, 400, 420]])
    np.testing.assert_array_equal(observed.sum(axis=1), [4, 4, 2])
    notices = "\n".join(history.notices)
    assert "dropped totals row 13 ('Total')" in notices
    assert "1 dark week(s) in 1 touchpoint(s) ('Live chat')" in notices
    assert "changed over time, the latest value is used: stage of 'Search ads'" in notices
    today = history.today()
    assert list(today["spend"]) == [33000, 4650.75, 4100]
    assert list(today["engaged"]) == [3250, 915, 820]
    assert list(today["stage"]) == ["awareness", "retention", "purchase"]
    assert list(today["function"]) == ["marketing", "service", "marketing"]

    last_two = io.read_history(FILES / "weekly_semicolon.csv", window="2w")
    assert (last_two.window.periods, last_two.window.first) == (2, pd.Timestamp("2024-01-15"))
    assert list(last_two.today()["spend"]) == [11000, 3150.25, 4100]


def test_monthly_workbook_with_datetime_cells(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "Monthly engagement"
    sheet.append([])
    sheet.append(["Month", "Touchpoint", "Owner", "Channel", "Spend", "Conversions"])
    for m in range(14):  # January 2023 to February 2024; Events skip April 2023
        month = dt.datetime(2023 + (m // 12), m % 12 + 1, 1)
        sheet.append([month, "Newsletter", "marketing", "e-mail", 1000.0 + m, 100 + m])
        if m != 3:
            sheet.append([month, "Events", "sales", "events", 5000, 50])
    path = tmp_path / "monthly.xlsx"
    book.save(path)
    history = io.read_history(path)
    assert history.frequency == history.input_frequency == "monthly"
    assert len(history.periods) == 14 and history.periods[0] == pd.Timestamp("2023-01-01")
    assert (history.window.periods, history.window.first) == (12, pd.Timestamp("2023-03-01"))
    assert "1 dark month(s) in 1 touchpoint(s) ('Events')" in "\n".join(history.notices)
    today = history.today()
    # the last 12 months: m = 2..13
    assert list(today["spend"]) == [sum(1000.0 + m for m in range(2, 14)), 5000 * 11]
    assert list(today["engaged"]) == [sum(100 + m for m in range(2, 14)), 50 * 11]
    assert list(today["function"]) == ["marketing", "sales"]


# --- dates ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cells", "frequency", "first"), [
    (["2024-W05", "2024-W06"], "weekly", "2024-01-29"),
    (["2024W05", "2024-W06-3"], "weekly", "2024-01-29"),
    (["Jan 2024", "Feb 2024"], "monthly", "2024-01-01"),
    (["2024-01", "2024-02"], "monthly", "2024-01-01"),
    (["Januar 2024", "Februar 2024"], "monthly", "2024-01-01"),
    (["31.01.2024", "29.02.2024"], "monthly", "2024-01-01"),  # month ends
    (["45320", "45327"], "weekly", "2024-01-29"),  # Excel serial days
    (["29/01/2024", "05/02/2024"], "weekly", "2024-01-29"),  # day first: 29 > 12
    (["01/29/2024", "02/05/2024"], "weekly", "2024-01-29"),  # month first: 29 > 12
    (["2024-01-29T00:00:00", "2024-02-05 00:00"], "weekly", "2024-01-29"),
    (["20240129", "20240205"], "weekly", "2024-01-29"),
])
def test_dates_as_people_write_them(cells, frequency, first):
    text = "date,touchpoint,function,channel,spend,engaged\n" + "".join(
        f"{c},A,f,c,10,1\n{c},B,f,c,20,2\n" for c in cells)
    history = read(text)
    assert history.frequency == frequency
    assert history.periods[0] == pd.Timestamp(first)
    assert len(history.periods) == 2


def test_day_or_month_first_decided_by_regular_periods():
    text = "date,touchpoint,function,channel,spend,engaged\n" + "".join(
        f"01/{d:02d}/2024,A,f,c,10,1\n" for d in range(1, 12))
    history = read(text)
    assert history.input_frequency == "daily" and history.periods[0] == pd.Timestamp("2024-01-01")
    assert any("as month/day/year: no number in them is above 12" in n for n in history.notices)


def test_parse_dates_flags_each_cell():
    parsed = parse_dates(pd.Series(["13/01/2024", "01/13/2024", "14/01/2024", "2024-02-30", "soon", ""]))
    assert list(parsed.dates.dt.date[[0, 2]]) == [dt.date(2024, 1, 13), dt.date(2024, 1, 14)]
    assert "written day/month/year (e.g. '13/01/2024')" in parsed.invalid[1]
    assert parsed.invalid[3] == "is not a real date (no such day, week or month)"
    assert parsed.invalid[4] == "is not a date"
    assert pd.isna(parsed.invalid[5])  # blank: the reader says it is empty


def test_bad_dates_are_refused_with_row_column_value_and_fix():
    error = refused("Week,touchpoint,function,channel,spend,engaged\n2024-01-01,A,f,c,1,1\n2024-02-30,A,f,c,1,1\n"
                    "next week,A,f,c,1,1\n,A,f,c,1,1\n")
    rows = [(p.row, p.column, p.value, p.message) for p in error.problems]
    assert rows == [(3, "Week (date)", "2024-02-30", "is not a real date (no such day, week or month)"),
                    (4, "Week (date)", "next week", "is not a date"), (5, "Week (date)", None, "is empty")]
    assert "2024-W05" in error.problems[0].fix


@pytest.mark.parametrize("cell", ["9999-12-31", "2300-01-01", "0001-01-01", "9999-W05", "Jan 9999", "31.12.2300"])
def test_dates_beyond_the_years_read_are_refused_not_a_traceback(cell):
    error = refused(f"date,touchpoint,function,channel,spend,engaged\n2025-01-06,A,f,c,1,1\n{cell},A,f,c,1,1\n")
    [problem] = error.problems
    assert (problem.row, problem.value) == (3, cell)
    assert problem.message.startswith(f"names the year {cell[-4:] if cell[0] in 'J3' else cell[:4]}: dates from 1900 ")


def test_days_and_months_mixed_are_refused():
    error = refused("date,touchpoint,function,channel,spend,engaged\n2024-01-01,A,f,c,1,1\n2024-01-08,A,f,c,1,1\n"
                    "2024-02,A,f,c,1,1\n")
    assert [(p.row, p.message) for p in error.problems] == [
        (4, "names a month while most rows name a day (e.g. '2024-01-01')")]


def test_weeks_named_by_different_weekdays_are_refused():
    error = refused("date,touchpoint,function,channel,spend,engaged\n2024-01-01,A,f,c,1,1\n2024-01-15,A,f,c,1,1\n"
                    "2024-01-22,A,f,c,1,1\n2024-01-29,A,f,c,1,1\n2024-02-13,B,f,c,1,1\n")
    assert len(error.problems) == 1 and error.problems[0].row == 6
    assert error.problems[0].message == "is a Tuesday while the other weeks start on a Monday (e.g. 2024-01-01)"


# --- windows ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "periods"), [(None, 52), ("26w", 26), ("12m", 52), ("6m", 26), ("90d", 13),
                                                ("1y", 52), ("all", 60), ("80w", 60)])
def test_window_of_a_weekly_history(spec, periods):
    history = read(weekly(60), window=spec)
    assert history.window.periods == periods
    today = history.today()
    first = 60 - periods  # A spends 100 + w in week w
    assert today["spend"].iloc[0] == sum(100 + w for w in range(first, 60))
    assert today["spend"].iloc[1] == 50 * periods
    assert today.attrs["periods"] == periods


def test_default_window_of_a_short_history_is_all_of_it():
    history = read(weekly(10))
    assert history.window.periods == 10 and history.window.first == pd.Timestamp("2024-01-01")


@pytest.mark.parametrize("spec", ["5x", "0w", "-3w", "w"])
def test_bad_windows_are_refused(spec):
    error = refused(weekly(3), window=spec)
    assert [(p.column, p.value) for p in error.problems] == [("window", spec)]
    assert "52w" in error.problems[0].fix


# --- columns ------------------------------------------------------------------------------------------------------


def test_outcome_words_and_summed_columns():
    history = read("Date,Campaign,Cost,Leads\n2024-01-01,A,10,1\n2024-01-01,B,20,2\n2024-01-08,A,30,3\n")
    assert history.matrices()[2].tolist() == [[1, 3], [2, 0]]
    summed = read("Date,Campaign,Cost,Leads,Chats\n2024-01-01,A,10,1,4\n2024-01-08,A,30,3,5\n",
                  mapping={"engaged": "Leads + Chats"})
    assert summed.matrices()[2].tolist() == [[5, 8]]


def test_two_outcome_columns_ask_which():
    error = refused("Date,Campaign,Cost,Conversions,Leads\n2024-01-01,A,10,1,4\n2024-01-08,A,30,3,5\n")
    assert [(p.column, p.message) for p in error.problems] == [
        ("engaged", "columns 'Conversions' and 'Leads' could each be engaged")]


def test_without_touchpoint_column_each_channel_is_one():
    history = read("week,channel,spend,engaged\n2024-01-01,tv,10,1\n2024-01-01,search,5,2\n2024-01-08,tv,10,1\n")
    assert history.names == ["tv", "search"]
    assert list(history.touchpoints["channel"]) == ["tv", "search"]
    assert any("no touchpoint column: each channel" in n for n in history.notices)


def test_without_function_channel_or_platform():
    history = read("date,campaign,spend,conversions\n2024-01-01,A,10,1\n2024-01-08,A,10,1\n")
    assert list(history.touchpoints[["function", "channel"]].iloc[0]) == ["marketing", "ads"]
    assert any("every touchpoint's channel is 'ads'" in n for n in history.notices)


def test_names_differing_only_in_case_and_spaces_are_one_touchpoint():
    history = read("week,touchpoint,function,channel,spend,engaged\n2024-01-01,Live  chat,s,c,1,1\n"
                   "2024-01-08,live chat,s,c,2,2\n")
    assert history.names == ["live chat"] and history.matrices()[1].tolist() == [[1, 2]]


def test_every_problem_at_once():
    error = refused("week,touchpoint,function,channel,spend,engaged\n2024-01-01,A,f,c,-5,1\n2024-01-01,,f,c,1,x\n"
                    "2024-01-08,A,f,c,1e400,1\n")
    assert [(p.row, p.column, p.message) for p in error.problems] == [
        (2, "spend", "is negative"), (3, "touchpoint", "is empty"), (3, "engaged", "is not a number"),
        (4, "spend", "is not a number")]


def test_missing_columns_and_cpe_are_refused():
    error = refused("week,touchpoint,function,channel,cpe\n2024-01-01,A,f,c,10\n")
    assert [(p.column, p.message) for p in error.problems] == [
        ("spend", "the history has no column for it"), ("engaged", "the history has no column for it"),
        ("cpe", "a cost per engaged customer cannot be added up over periods")]


def test_no_date_column():
    error = refused("touchpoint,function,channel,spend,engaged\nA,f,c,1,1\n")
    assert error.problems[0].column == "date" and "--map date=" in error.problems[0].fix


def test_wide_marketing_mix_tables_are_refused_pointing_to_curves():
    """The shape of Robyn's dt_simulated_weekly and Meridian's national_media: one KPI for all channels."""
    for text in ("DATE,revenue,tv_S,ooh_S,facebook_I,facebook_S\n2015-11-23,2754371.6,22358.3,0,24301284,7607.1\n"
                 "2015-11-30,2584276.6,28613.4,0,5527033,1141.9\n",
                 "time,conversions,Channel0_impression,Channel0_spend,Channel1_spend\n2021-01-25,162516020,13158922,"
                 "146755.84,128646.98\n2021-02-01,202669810,11940023,133161.98,217435.08\n"):
        error = refused(text)
        assert len(error.problems) == 1
        assert "wide marketing-mix table" in error.problems[0].message
        assert "--curves" in error.problems[0].fix
        assert is_history(io.read_table(text.encode(), name="wide.csv"))


def test_is_history():
    assert is_history(io.read_table(weekly(3).encode(), name="h.csv"))
    assert not is_history(io.read_table(SAMPLE))
    dated = "touchpoint,function,channel,spend,engaged,date\nA,f,c,1,1,2024-01-01\nB,f,c,1,1,2024-01-01\n"
    assert not is_history(io.read_table(dated.encode(), name="t.csv"))  # one row per touchpoint
    assert is_history(io.read_table(FILES / "ads_daily.csv"), touchpoint="ad_name")


def test_today_problems_name_the_touchpoints_row():
    history = read("week,touchpoint,function,channel,stage,spend,engaged\n2024-01-01,A,f,c,awareness,1,1\n"
                   "2024-01-08,A,f,c,funnel top,1,1\n")
    with pytest.raises(bo.InputError) as error:
        history.today()
    assert [(p.row, p.column, p.value) for p in error.value.problems] == [(3, "stage", "funnel top")]


def test_touchpoints_idle_in_the_window_are_left_out_of_today():
    history = read("week,touchpoint,function,channel,spend,engaged\n2024-01-01,Old,f,c,10,1\n2024-01-01,New,f,c,5,1\n"
                   "2024-01-08,New,f,c,5,1\n", window="1w")
    today = history.today()
    assert list(today["touchpoint"]) == ["New"] and list(today["spend"]) == [5]
    assert any(n.startswith("left out 'Old': no spend in the window") for n in today.attrs["notices"])
    assert list(read("week,touchpoint,function,channel,spend,engaged\n2024-01-01,Old,f,c,10,1\n"
                     "2024-01-08,New,f,c,5,1\n", window="all").today()["spend"]) == [10, 5]


def test_no_touchpoint_with_spend_in_the_window():
    history = read("week,touchpoint,function,channel,spend,engaged\n2024-01-01,A,f,c,10,1\n2024-01-08,A,f,c,0,0\n",
                   window="1w")
    with pytest.raises(bo.InputError, match="no touchpoint has both spend and engaged customers in the window"):
        history.today()


# --- properties ---------------------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31)))
def test_one_day_written_every_way_reads_back(day):
    cells = [day.isoformat(), day.strftime("%d.%m.%Y"), day.strftime("%Y%m%d"), day.strftime("%Y/%m/%d"),
             f"{day.isoformat()}T00:00:00", str((pd.Timestamp(day) - pd.Timestamp("1899-12-30")).days)]
    if day.day > 12:
        cells += [day.strftime("%d/%m/%Y"), day.strftime("%m/%d/%Y")]
    for cell in cells:
        parsed = parse_dates(pd.Series([cell]))
        assert parsed.dates[0] == pd.Timestamp(day) and parsed.kind[0] == "day", cell


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 9), st.integers(0, 500), st.integers(0, 50)),
                min_size=1, max_size=40))
def test_sums_are_exact_on_a_complete_grid(rows):
    """Any rows (touchpoint, week, spend, engaged), in any order and repeated: every cell is the sum of its rows,
    every touchpoint has every week from its first on, and nothing is lost."""
    frame = pd.DataFrame(rows, columns=["tp", "week", "spend", "engaged"])
    frame["date"] = (pd.Timestamp("2024-01-01") + pd.to_timedelta(7 * frame["week"], unit="D")).dt.date
    text = "week,touchpoint,function,channel,spend,engaged\n" + "".join(
        f"{r.date},T{r.tp},f,c,{r.spend},{r.engaged}\n" for r in frame.itertuples())
    table = io.read_table(text.encode(), name="p.csv")
    history = history_from_table(table)
    names, spend, engaged, observed = history.matrices()
    start = frame["week"].min()
    expected = frame.assign(p=frame["week"] - start).groupby(["tp", "p"])[["spend", "engaged"]].sum()
    for (tp, p), values in expected.iterrows():
        i = names.index(f"T{tp}")
        assert (spend[i, p], engaged[i, p]) == (values["spend"], values["engaged"])
    assert spend.sum() == frame["spend"].sum() and engaged.sum() == frame["engaged"].sum()
    assert len(history.periods) == frame["week"].max() - start + 1
    firsts = frame.groupby("tp")["week"].min() - start
    for tp, first in firsts.items():
        assert observed[names.index(f"T{tp}")].tolist() == [p >= first for p in range(len(history.periods))]
    assert len(history.long) == observed.sum()


CELLS = st.sampled_from(["", "2024-01-01", "2024-01-08", "01/02/2024", "13/01/2024", "2024-W05", "Jan 2024", "45320",
                         "2024-02-30", "A", "b", " A ", "x", "0", "1", "-1", "1.234", "1,5", "1e400", "nan", "Total",
                         "=SUM(A1)", "10", "250.5", "3"])
HEADERS = st.sampled_from(["week", "date", "touchpoint", "campaign", "channel", "platform", "function", "stage",
                           "spend", "cost", "engaged", "conversions", "leads", "cpe", "value", "tag"])


@settings(max_examples=150, deadline=None)
@given(st.lists(HEADERS, min_size=1, max_size=7, unique=True),
       st.lists(st.lists(CELLS, min_size=7, max_size=7), max_size=8), st.sampled_from([None, "2w", "all"]))
def test_any_table_reads_or_is_refused(headers, rows, window):
    """Random small tables of tricky cells: a history (whose today() is a table or an InputError) or an InputError,
    never another exception."""
    text = ",".join(headers) + "\n" + "".join(",".join(r[: len(headers)]) + "\n" for r in rows)
    try:
        history = read(text, window=window)
    except bo.InputError as exc:
        assert exc.problems
        return
    names, spend, engaged, observed = history.matrices()
    assert spend.shape == engaged.shape == observed.shape == (len(names), len(history.periods))
    assert np.isfinite(spend).all() and (spend >= 0).all() and observed[:, -1].all()
    try:
        today = history.today()
    except bo.InputError as exc:
        assert exc.problems
        return
    assert (today["spend"] > 0).all() and (today["engaged"] > 0).all()
