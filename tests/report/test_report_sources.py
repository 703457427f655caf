"""The report's register names each quote's source as a reader can find it: a record's title with
its author, publisher, date and web address; a public record named in words as written (never cut
down to the last part of a web address it contains); a bare file name by its base name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

from report_support import make_data

from redline.report.html import render_report
from redline.scenario.model import SourceRecord
from redline.scenario.register import Citation, RegisterRow

RECORD = SourceRecord(
    id="wsws_2024",
    title="NATO war summit prepares direct entry into Ukraine war",
    author="Andre Damon",
    publisher="World Socialist Web Site",
    date=dt.date(2024, 7, 10),
    url="https://www.wsws.org/en/articles/2024/07/11/gzdi-j11.html",
    file="001_8b9f03ba5201968e.txt",
)
FREE_TEXT = "PBS NewsHour, 25 January 2023 (https://www.pbs.org/newshour/politics/watch-live)"


def _visible(page: str) -> str:
    """The page's text as a reader sees it, whitespace squashed (scripts and styles left out)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_register_quotes_name_their_sources() -> None:
    rows = [
        RegisterRow(
            "parameters.growth_2023",
            "value",
            "0.08",
            (Citation("wsws_2024", "grew by 8 percent", None, RECORD, (0.08,)),),
            None,
        ),
        RegisterRow(
            "parameters.tanks",
            "value",
            "1",
            (Citation(FREE_TEXT, "Abrams tanks to Ukraine", None),),
            None,
        ),
        RegisterRow(
            "parameters.other",
            "value",
            "0.3",
            (Citation("../sources/000.md", "a quote from a file", None),),
            None,
        ),
    ]
    text = _visible(render_report(dataclasses.replace(make_data(), register=rows)))
    assert (
        "NATO war summit prepares direct entry into Ukraine war (Andre Damon, World Socialist "
        "Web Site, 10 July 2024, https://www.wsws.org/en/articles/2024/07/11/gzdi-j11.html)"
    ) in text
    assert "001_8b9f03ba5201968e.txt" not in text and "wsws_2024" not in text
    assert FREE_TEXT in text  # as written, not 'watch-live)'
    assert "000.md" in text and "../sources" not in text
    assert "1 stated" in text  # the kinds are counted
