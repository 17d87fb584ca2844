"""The sidebar's data section: the sample, or the person's own CSV or Excel file, which goes through the
column-mapping step in the main area; problems with an upload are listed in place, each with its row and fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import streamlit as st

from ... import io
from ... import schema as S
from ...export import Provenance
from ...ingest import RawTable
from .. import cached, columns, link, report
from .shared import md
from .state import DATA_KEYS, Key

NOT_MAPPED = "(not in my file)"
PROBLEMS_IN_FULL = 30
"""Up to this many problems are listed as a plain table, every word shown; more scroll in a table of their own."""
"""The column-mapping step's choice for a column the file does not have."""


def upload_limit() -> int:
    """Largest upload in bytes: the server's limit (server.maxUploadSize, in MB) and the reader's, whichever is less."""
    return min(io.MAX_INPUT_BYTES, int(st.get_option("server.maxUploadSize")) * 1024 * 1024)


def _template_csv() -> bytes:
    return io.table_csv(report.template_table())


def data_source(sample: Path) -> pd.DataFrame | None:
    """Sidebar: the sample, or the person's own CSV or Excel file, which goes through the column-mapping step
    (main area). Problems with an upload are listed in the main area, each with its row, column and fix."""
    side, ss = st.sidebar, st.session_state
    side.header("Data")
    limit = upload_limit()
    upload = side.file_uploader("Your touchpoint table (optional)", type=["csv", "xlsx"], key=Key.UPLOAD,
                                help=f"CSV (any delimiter or encoding) or Excel (.xlsx); one row per touchpoint; at "
                                     f"most {limit / 1024 / 1024:,.0f} MB. Until you upload a file, the page shows "
                                     "the sample data.")
    side.download_button("Download a template CSV", _template_csv,  # written when clicked
                         file_name="touchpoints_template.csv", mime="text/csv", on_click="ignore",
                         help="every column the tool understands, with two example rows")
    ss[Key.EVIDENCE] = None
    if upload is None:
        _forget_columns()
        table = cached.touchpoints_from_file(str(sample))
        side.caption(f"Sample data: {len(table)} touchpoints of a made-up company.")
        table, curves_id = with_curves(table)
        _data_changed(f"sample:{sample}{curves_id}")
        ss[Key.DATA_LABEL] = link.SAMPLE
        ss[Key.SOURCE], ss[Key.SAMPLE] = Provenance(sample.name, io.file_sha256(sample)), str(sample)
        return table
    data = upload.getvalue()
    raw, problems = cached.raw_table(data, upload.name, limit)
    if problems is not None:
        _forget_columns()
        _problems(upload.name, problems, "Fix them and upload the file again (or remove it to go back to the sample).")
        return None
    if cached.is_history(data, upload.name):
        _forget_columns()
        table, setting = history_source(upload.name, data)
    else:
        table, choice = column_mapping(upload.name, data, raw)
        setting = repr(choice.key())
    if table is None:
        return None
    side.caption(f"{upload.name}: {len(table):,} touchpoints.")
    table, curves_id = with_curves(table)
    if table is None:
        return None
    _data_changed(f"upload:{hashlib.sha256(data).hexdigest()}:{hashlib.sha256(setting.encode()).hexdigest()[:12]}"
                  f"{curves_id}")
    ss[Key.DATA_LABEL] = link.UPLOAD + upload.name
    ss[Key.SOURCE], ss[Key.SAMPLE] = Provenance.of_bytes(upload.name, data), None
    return table


def for_scenario(touchpoints: pd.DataFrame, scenario) -> pd.DataFrame:
    """A plan over dated periods on a fitted history plans on the seasonality the history shows, as on the command
    line (seasonality.for_plan); the sidebar says so. Any other table and scenario: the table as it is."""
    evidence = st.session_state.get(Key.EVIDENCE)
    if (scenario.periods is None or evidence is None or evidence.table is not touchpoints
            or S.SEASONALITY in touchpoints.columns):
        return touchpoints
    table = cached.seasonal_table(evidence, str(st.session_state.get(Key.DATA, "")),
                                  scenario.periods.model_dump_json())
    if table is not touchpoints and S.SEASONALITY in table.columns:
        st.sidebar.caption(md(table.attrs.get("notices", ["seasonality estimated from the history"])[-1]))
    return table


WINDOWS = ("52w", "26w", "13w", "12m", "6m", "all")
"""The windows offered for a history: the periods that make today."""


def history_source(name: str, data: bytes) -> tuple[pd.DataFrame | None, str]:
    """Sidebar: a history (a date column, rows per touchpoint and period) is fitted, one curve per touchpoint, over
    the window chosen; the main area says what was done and how good the fits are (the Curves tab shows them)."""
    side, ss = st.sidebar, st.session_state
    side.markdown(f"**{md(name)}** is a history: each touchpoint's curve is fitted to it.")
    window = side.selectbox("Today is the last ...", WINDOWS, key=Key.WINDOW,
                            format_func=lambda w: {"all": "all of the history"}.get(w, w.replace("w", " weeks")
                                                                                     .replace("m", " months")),
                            help="the periods whose totals are today's spend and engagement; the plan is for a "
                                 "period as long, each touchpoint's money spread over it as in these periods")
    touchpoint = side.text_input("Touchpoint column (ad exports)", key=Key.HISTORY_TOUCHPOINT,
                                 placeholder="found by its name",
                                 help="the column whose values are touchpoints, e.g. Campaign name: rows of one "
                                      "touchpoint and period (one per ad or ad group) are added up")
    evidence, problems, notices = cached.evidence_from_history(data, name, window, touchpoint.strip())
    if problems is not None:
        _problems(name, problems, "Fix the file, or choose the touchpoint column and the window in the sidebar.")
        return None, ""
    ss[Key.EVIDENCE] = evidence
    counts = evidence.report()["fit_verdict"].value_counts()
    with st.expander(f"What was done to **{md(name)}**: {int(counts.get('good', 0))} good, "
                     f"{int(counts.get('weak', 0))} weak and {int(counts.get('not identified', 0))} unidentified "
                     "curves (see the Curves tab)"):
        st.markdown("\n".join(f"- {md(n)}" for n in notices))
    return evidence.table, f"{window}|{touchpoint.strip()}"


def with_curves(table: pd.DataFrame) -> tuple[pd.DataFrame | None, str]:
    """Sidebar: response curves from a marketing-mix model (optional): the touchpoints they name plan on them.
    Returns the table (None when the curves cannot be used) and what names the curves in the data's identity."""
    side, ss = st.sidebar, st.session_state
    upload = side.file_uploader("Response curves from a model (optional)", type=["csv", "xlsx"],
                                key=Key.CURVES_UPLOAD,
                                help="long rows touchpoint, spend, engaged (the response over the planning period "
                                     "at each spend level), as Meridian, Robyn or PyMC-Marketing export them; an "
                                     "optional band (lower/upper, ci_lo/ci_hi)")
    if upload is None:
        return table, ""
    data = upload.getvalue()
    raw, problems = cached.raw_table(data, upload.name, upload_limit())
    if problems is not None:
        _problems(upload.name, problems, "Fix the curves file and upload it again (or remove it).")
        return None, ""
    headers = ["", *raw.headers]
    with side.expander("Columns of the curves file"):
        pairs = []
        for target in (S.TOUCHPOINT, S.SPEND, S.ENGAGED):
            chosen = st.selectbox(target, headers, key=Key.CURVES_MAP + target,
                                  format_func=lambda h: h or "(found by its name)")
            if chosen:
                pairs.append((target, chosen))
    beyond = side.number_input("Plan beyond a curve's last point up to (x its spend)", min_value=1.0,
                               max_value=10.0, value=1.0, step=0.25, key=Key.CURVES_BEYOND,
                               help="1: never beyond the last point the model gave (the default). Above 1: each "
                                    "curve goes on at its last slope up to that multiple, an assumption the plan "
                                    "names where it binds")
    evidence, problems, notices = cached.evidence_with_curves(table, data, upload.name, tuple(pairs), float(beyond))
    if problems is not None:
        _problems(upload.name, problems, "Choose its columns in the sidebar, or fix the file.")
        return None, ""
    before = ss.get(Key.EVIDENCE)
    if before is not None:  # a fitted history and a model's curves: the fits stay for the others' ranges
        evidence.fits, evidence.shares, evidence.history = before.fits, before.shares, before.history
    ss[Key.EVIDENCE] = evidence
    side.caption(f"{upload.name}: curves for {int((evidence.table[S.CURVE_SOURCE] == S.TABULATED).sum())} "
                 "touchpoints.")
    if notices:
        st.info(f"About the curves in **{md(upload.name)}**:\n\n" + "\n".join(f"- {md(n)}" for n in notices))
    return evidence.table, f":curves:{hashlib.sha256(data).hexdigest()[:12]}:{pairs}:{beyond:g}"


def column_mapping(name: str, data: bytes, raw: RawTable) -> tuple[pd.DataFrame | None, columns.Choice]:
    """Main area: which header of the file is which touchpoint column (pre-filled from the headers), then the
    table checked under that mapping: its problems in place, or what was done to the file on the way.

    The choices are a form: nothing is planned with half a mapping. A file whose every column is recognised and
    checks out is planned at once, its panel folded to what each column is, with a button to change them (the
    form's thirty-odd widgets are not drawn on every budget typed); otherwise the form stays open and the plan waits
    until the person presses 'Use these columns'."""
    ss = st.session_state
    headers = raw.headers
    file_id = hashlib.sha256(data).hexdigest()
    if ss.get(Key.MAP_FILE) != file_id or Key.MAP + S.TOUCHPOINT not in ss:  # a new file: pre-fill from its headers
        _forget_columns()
        for target, chosen in columns.initial_choices(headers).items():
            ss[Key.MAP + target] = chosen if target in columns.SUMMABLE else (chosen[0] if chosen else NOT_MAPPED)
        ss[Key.MAP_FILE] = file_id
        first = _choice(headers)
        ok = cached.mapped_touchpoints(data, name, first.key())[1] is None and not columns.ambiguous(headers)
        ss[Key.MAP_CONFIRMED] = first.key() if ok else None
        ss[Key.MAP_CHANGE] = False
    choice = _choice(headers)
    confirmed = ss.get(Key.MAP_CONFIRMED) == choice.key()
    table, problems, notices = cached.mapped_touchpoints(data, name, choice.key())
    if confirmed and problems is None and not ss.get(Key.MAP_CHANGE):
        _chosen_columns(name, raw, choice)
    else:
        _mapping_form(name, raw, choice)
    if problems is not None:
        _problems(name, problems, "Change the columns above, or fix the file and upload it again.", raw.header_row)
    elif not confirmed:
        st.info(f"Check the columns of **{md(name)}** above and press **Use these columns**: the plan waits for "
                "them.")
    if notices:
        st.info(f"What was done to **{md(name)}** on the way in:\n\n" + "\n".join(f"- {md(n)}" for n in notices))
    return (table if confirmed else None), choice


def _forget_columns() -> None:
    """Forget the column choices of the table uploaded last (when the page leaves it, and before a new file's): a
    file uploaded again is pre-filled from its headers, as a new one is."""
    ss = st.session_state
    for key in [k for k in ss if isinstance(k, str) and k.startswith(Key.MAP)]:
        del ss[key]
    for key in (Key.MAP_FILE, Key.MAP_CONFIRMED, Key.MAP_CHANGE):
        ss.pop(key, None)


def _chosen_columns(name: str, raw: RawTable, choice: columns.Choice) -> None:
    """Main area, folded: which header is which touchpoint column, the first rows as read, and a button that opens
    the form. The choices are kept while their widgets are not drawn (Streamlit forgets a widget's value when it
    is not drawn in a run; set again by the page, it is the page's, and kept)."""
    ss = st.session_state
    for target in columns.ASKED:
        if Key.MAP + target in ss:
            ss[Key.MAP + target] = ss[Key.MAP + target]
    with st.expander(f"Columns of {md(name)}: which is which"):
        st.markdown("Each touchpoint column, from your file's: " + " · ".join(
            f"**{target}**: {md(' + '.join(headers))}" for target, headers in choice.mapping.items()))
        st.button("Change the columns", key="change_columns", on_click=ss.__setitem__, args=(Key.MAP_CHANGE, True))
        _first_rows(name, raw)


def _first_rows(name: str, raw: RawTable) -> None:
    st.caption(f"The first rows of {md(name)} as read ({len(raw.data):,} rows, {len(raw.headers)} columns):")
    st.dataframe(raw.data.head(5), hide_index=True, width="stretch")


def _mapping_form(name: str, raw: RawTable, choice: columns.Choice) -> None:
    """Main area: one widget per touchpoint column in a form, pre-filled from the headers; nothing is used until
    'Use these columns' is pressed."""
    headers = raw.headers
    with st.expander(f"Columns of {md(name)}: which is which", expanded=True):
        with st.form("column_mapping", border=False):
            st.caption("Pre-filled from your headers. Choose the column of your file that holds each; for numbers "
                       "you may choose several, which are added up (e.g. Leads + Chats = engaged). Leave a column "
                       "empty when your file does not have it. Nothing is planned until you press **Use these "
                       "columns**.")
            for target, found in columns.ambiguous(headers).items():
                if not choice.mapping.get(target):
                    st.warning(f"{' and '.join(md(repr(h)) for h in found)} could each be **{target}**: choose one.")
            _mapping_widgets(columns.MAIN, headers)
            st.markdown("**Limits, curves and value** (optional)")
            _mapping_widgets(columns.OPTIONAL, headers)
            st.form_submit_button("Use these columns", type="primary", on_click=_confirm, args=(headers,))
        _first_rows(name, raw)


def _choice(headers: list[str]) -> columns.Choice:
    """The mapping the widgets hold (the form's last submitted values)."""
    return columns.choose(headers, {t: _chosen(t) for t in columns.ASKED})


def _confirm(headers: list[str]) -> None:
    st.session_state[Key.MAP_CONFIRMED] = _choice(headers).key()
    st.session_state[Key.MAP_CHANGE] = False


def _chosen(target: str) -> list[str]:
    value = st.session_state.get(Key.MAP + target)
    if isinstance(value, list):
        return value
    return [] if value in (None, NOT_MAPPED) else [value]


def _mapping_widgets(targets: tuple[str, ...], headers: list[str]) -> None:
    """One widget per touchpoint column, four to a row: a choice of one header, or of several for numbers."""
    for start in range(0, len(targets), 4):
        for column, target in zip(st.columns(4), targets[start:start + 4], strict=False):
            label = target + (" (required)" if target in columns.REQUIRED else "")
            label = f"{S.ENGAGED} (or {S.CPE})" if target == S.ENGAGED else label
            if target in columns.SUMMABLE:
                column.multiselect(label, headers, key=Key.MAP + target, help=columns.DESCRIPTION[target],
                                   placeholder=NOT_MAPPED)
            else:
                column.selectbox(label, [NOT_MAPPED, *headers], key=Key.MAP + target,
                                 help=columns.DESCRIPTION[target])


def _problems(name: str, problems: pd.DataFrame, what_to_do: str, header_row: int | None = None) -> None:
    st.error(f"**{md(name)}** cannot be used yet: {len(problems)} problem(s), listed below with the row and column "
             f"in your file and how to fix each. {what_to_do}")
    shown = report.problems_for_people(problems, header_row)
    if len(shown) <= PROBLEMS_IN_FULL:  # every word of each problem and fix, wrapped
        st.table(shown.astype({"row": "string"}).fillna(""), hide_index=True)
    else:
        st.dataframe(shown, hide_index=True, width="stretch",
                     column_config={"row": st.column_config.NumberColumn(format="%d")})


def _data_changed(data_id: str) -> None:
    """Forget the widget values that belong to the previous table (today's budget, the target CPE)."""
    ss = st.session_state
    if ss.get(Key.DATA) != data_id:
        for key in DATA_KEYS:
            ss.pop(key, None)
        ss[Key.DATA] = data_id
