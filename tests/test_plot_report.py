"""`plot` and `report`: the timeline behind them, the chart, the standalone HTML page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import matplotlib.image
import pandas as pd
import pytest
from click.testing import CliRunner
from matplotlib.figure import Figure

from outage_signals import html_report, pipeline, plotting, timeline
from outage_signals.catalog import load_catalog
from outage_signals.cli import main
from outage_signals.errors import CatalogError, InputError
from outage_signals.jsonl import read_posts
from outage_signals.records import post_from_dict
from tests.conftest import SAMPLES, record, write_lines

REPLAY = SAMPLES / "chatgpt-replay.jsonl.gz"


@pytest.fixture(scope="module")
def sample_posts():
    return read_posts(str(REPLAY))


@pytest.fixture(scope="module")
def chatgpt(sample_posts):
    return timeline.service_timeline(sample_posts, load_catalog({}), "chatgpt")


# ---- the timeline ------------------------------------------------------------------------------

def test_timeline_holds_what_detect_reports(sample_posts, chatgpt):
    assert chatgpt.incidents == pipeline.detect(sample_posts, load_catalog({}), services=["chatgpt"])
    assert chatgpt.counts.index.equals(chatgpt.expected.index)
    assert len(chatgpt.counts) == 3 * 1440 + 1  # the posts' span, one-minute bins
    assert (chatgpt.expected > 0).all() and chatgpt.baseline_from == "window"
    (incident,) = chatgpt.incidents
    start = pd.Timestamp(incident["start"])
    # The baseline the detector used stays near its usual level while the counts jump.
    inside = chatgpt.counts[start:start + pd.Timedelta("30min")]
    assert inside.mean() > 20 * chatgpt.expected[start:start + pd.Timedelta("30min")].mean()
    assert chatgpt.scores["likely"][start:start + pd.Timedelta("5min")].any()
    assert not chatgpt.scores["likely"][:start - pd.Timedelta("2h")].any()


def test_timeline_errors_say_what_is_missing(sample_posts, catalog):
    few = sample_posts[:50]
    with pytest.raises(InputError, match=r"no posts from 2030-01-01 00:00 UTC on \(50 read\)"):
        timeline.timelines(few, catalog, since=pd.Timestamp("2030-01-01", tz="UTC"))
    with pytest.raises(InputError, match="no relevant posts of netflix in the input"):
        timeline.service_timeline(few, catalog, "netflix")
    with pytest.raises(CatalogError, match="unknown service 'chatgtp'"):
        timeline.service_timeline(few, catalog, "chatgtp")
    with pytest.raises(InputError, match="between 1min and 1h"):
        timeline.timelines(few, catalog, bin_size="2h")
    unrelated = [post_from_dict(record(i, text="lovely weather today")) for i in range(3)]
    with pytest.raises(InputError, match="none of the 3 posts in the input reports a problem"):
        timeline.timelines(unrelated, catalog)


def test_main_incident_and_ordering_prefer_likely_then_size():
    small = {"level": "likely", "posts": 10, "start": "2025-01-01T02:00:00Z"}
    big = {"level": "possible", "posts": 500, "start": "2025-01-01T01:00:00Z"}
    large = {"level": "likely", "posts": 40, "start": "2025-01-01T03:00:00Z"}
    assert timeline.main_incident([small, big, large]) is large
    assert timeline.main_incident([]) is None


def test_first_reports_are_the_earliest_authors_inside_the_incident(chatgpt):
    incident = chatgpt.incidents[0]
    first = timeline.first_reports(chatgpt.rows, incident, 6, until=chatgpt.until)
    assert len(first) == 6 and first["created_at"].is_monotonic_increasing
    assert first["created_at"].min() >= pd.Timestamp(incident["start"])
    assert first["author"].is_unique
    inside = chatgpt.rows[chatgpt.rows["created_at"] >= pd.Timestamp(incident["start"])]
    assert first["created_at"].iloc[0] == inside["created_at"].min()


def test_spread_over_time_counts_each_located_author_once(chatgpt):
    incident = chatgpt.incidents[0]
    table = timeline.spread_over_time(chatgpt.rows, incident, every="1h", top=3, until=chatgpt.until)
    assert list(table.columns) == ["US", "GB", "MX", "other"]
    assert table.index[0] == pd.Timestamp(incident["start"]) and table.index.freq == "h"
    located = sum(r["posts"] for r in incident["regions"])
    assert int(table.to_numpy().sum()) == located
    assert table["US"].sum() == incident["regions"][0]["posts"]


# ---- the chart ---------------------------------------------------------------------------------

def _legend(ax) -> list[str]:
    legend = ax.get_legend()
    return [t.get_text() for t in legend.get_texts()] if legend else []


def test_timeline_figure_marks_start_interval_alerts_and_recovery(chatgpt):
    (incident,) = chatgpt.incidents
    start, low, high = (incident[k][11:16] for k in ("start", "start_low", "start_high"))
    assert "18:38" <= low <= "18:40" <= high <= start <= "18:42"  # the true start is 18:40
    fig = plotting.timeline_figure(chatgpt)
    overview, onset, recovery = fig.axes
    assert "ChatGPT (chatgpt)" in fig.get_suptitle()
    assert "likely incident" in _legend(overview) and "baseline (expected)" in _legend(overview)
    assert onset.get_title() == f"onset: start {start} UTC (interval {low}–{high})"
    labels = _legend(onset)
    for label in (f"start interval {low}–{high}", f"start {start}",
                  f"detected_at {incident['detected_at'][11:16]} (likely)",
                  "likely alarm bins", "possible alarm bins"):
        assert label in labels
    end = incident["end"][11:16]
    assert f"end {end}" in _legend(recovery)
    assert recovery.get_title().startswith(f"recovery: back to baseline at 12-27 {end} UTC, after 7.")
    assert onset.get_yscale() == "symlog"  # a ×100 surge over a baseline below 1 a minute


def test_timeline_figure_without_incident_is_one_panel(sample_posts, catalog):
    quiet = timeline.service_timeline(sample_posts, catalog, "zoom")
    assert quiet.incidents == []
    fig = plotting.timeline_figure(quiet)
    assert len(fig.axes) == 1 and fig.axes[0].get_title().startswith("no incident from 2024-12-25")


def test_regions_figure_bars_follow_the_shares(chatgpt):
    fig = plotting.regions_figure(chatgpt.incidents[0], top=5)
    countries, regions = fig.axes
    widths = [bar.get_width() for bar in countries.patches]
    assert len(widths) == 5 and widths == sorted(widths, reverse=True)
    assert countries.get_yticklabels()[0].get_text() == "United States ●"
    assert len(regions.patches) == 5


def test_save_figure_refuses_other_suffixes_and_unwritable_paths(tmp_path):
    fig = Figure()
    fig.add_subplot().plot([0, 1], [1, 0])
    with pytest.raises(InputError, match=r"charts are written as \.png, \.svg, \.pdf"):
        plotting.save_figure(fig, tmp_path / "chart.gif")
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(InputError, match=r"cannot write .*file/chart\.png"):
        plotting.save_figure(fig, blocker / "chart.png")
    out = plotting.save_figure(fig, tmp_path / "deeper" / "chart.svg")
    assert out.read_text().lstrip().startswith("<?xml") and list(out.parent.iterdir()) == [out]


# ---- the commands ------------------------------------------------------------------------------

def test_plot_writes_a_png_of_the_service(tmp_path):
    out = tmp_path / "chatgpt.png"
    result = CliRunner().invoke(main, ["plot", str(REPLAY), "--service", "chatgpt", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.endswith(f"outage-signals: wrote {out}: chatgpt, 1 incident(s)\n")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    height, width, _ = matplotlib.image.imread(out).shape
    assert width >= 1100 and height >= 700


def test_plot_refuses_a_bad_file_name_before_reading(tmp_path):
    result = CliRunner().invoke(main, ["plot", str(tmp_path / "missing.jsonl"), "-o", "x.gif"])
    assert result.exit_code == 1
    assert result.stderr == ("Error: x.gif: charts are written as .png, .svg, .pdf; give a file "
                             "name ending in one of them\n")


def test_plot_incident_out_of_range_and_no_relevant_posts(tmp_path):
    posts = write_lines(tmp_path / "few.jsonl", [
        record(i, text="is chatgpt down?", author=f"a{i}", service="chatgpt",
               created_at=f"2024-12-26T{10 + 2 * i:02d}:00:00Z") for i in range(5)])
    out = str(tmp_path / "x.png")
    result = CliRunner().invoke(main, ["plot", posts, "--service", "chatgpt", "--incident", "2", "-o", out])
    assert result.exit_code == 1
    assert result.stderr.endswith("Error: chatgpt has 0 incident(s) in this window; --incident 2 is "
                                  "out of range\n")
    result = CliRunner().invoke(main, ["plot", posts, "--service", "slack", "-o", out])
    assert result.exit_code == 1
    assert result.stderr.endswith("Error: no relevant posts of slack in the input (5 posts read)\n")


class _Loads(HTMLParser):
    """Every attribute that would make a browser fetch something, and every link."""

    def __init__(self):
        super().__init__()
        self.loads: list[tuple[str, str, str]] = []
        self.links: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if tag == "a" and name == "href":
                self.links.append(value or "")
            elif name in ("src", "href", "srcset", "data", "poster", "xlink:href", "action"):
                self.loads.append((tag, name, value or ""))


def test_report_is_one_standalone_page_with_the_incident(tmp_path, chatgpt):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(REPLAY), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.stderr and "1 service(s), 1 incident(s)" in result.stderr
    page = out.read_text(encoding="utf-8")
    parser = _Loads()
    parser.feed(page)
    # Nothing is fetched: the only resource is the embedded chart; no scripts, no stylesheets.
    assert [(tag, name) for tag, name, _ in parser.loads] == [("img", "src")]
    assert parser.loads[0][2].startswith("data:image/png;base64,")
    assert not parser.tags & {"script", "link", "iframe", "object", "embed"}
    assert "@import" not in page and "url(" not in page
    # Post links are plain links, and the only URLs in the page.
    assert parser.links and all(link.startswith(("https://", "#")) for link in parser.links)
    without_links = re.sub(r'<a href="[^"]*"', "<a", page)
    assert "http://" not in without_links and "https://" not in without_links
    # The incident, its interval, the spread chart and example posts.
    assert '<h2 id="svc-chatgpt">ChatGPT' in page
    (incident,) = chatgpt.incidents  # what the page must show, as the library finds it
    row = (f"<td>{incident['start'][:10]} {incident['start'][11:16]}</td>"
           f"<td>{incident['start_low'][11:16]}–{incident['start_high'][11:16]}</td>"
           f"<td>{incident['detected_at'][:10]} {incident['detected_at'][11:16]}</td>")
    assert row in page and row.startswith("<td>2024-12-26 18:4")
    assert "<svg " in page and "United States" in page and "First reports" in page
    assert "is ChatGPT down for anyone else?" in page


def _timeline_with(text: str, url: str) -> timeline.ServiceTimeline:
    """A small hand-made timeline whose only incident's posts carry ``text`` and ``url``."""
    index = pd.date_range("2025-01-07 12:00", periods=180, freq="min", tz="UTC")
    counts = pd.Series([1] * 60 + [30] * 60 + [1] * 60, index=index)
    scores = pd.DataFrame({"observed": counts.astype(float), "expected": 1.0, "score": 0.0,
                           "possible": counts > 1, "likely": counts > 1, "recent": False},
                          index=index)
    rows = pd.DataFrame({"service": "slack", "created_at": index[60:65] + pd.Timedelta("10s"),
                         "author": [f"a{i}" for i in range(5)], "source": "twitter",
                         "id": [str(i) for i in range(5)], "text": text, "url": url,
                         "relevance": 0.99, "country": "GB", "region": "GB-ENG"})
    incident = {"service": "slack", "start": "2025-01-07T13:00:00Z", "start_low": "2025-01-07T12:58:00Z",
                "start_high": "2025-01-07T13:00:00Z", "detected_at": "2025-01-07T13:02:00Z",
                "peak_at": "2025-01-07T13:05:00Z", "end": "2025-01-07T14:00:00Z", "level": "likely",
                "posts": 5, "baseline_per_min": 1.0, "peak_per_min": 30.0, "ratio": 30.0,
                "regions": [{"code": "GB", "name": "United Kingdom", "posts": 5, "share": 1.0, "lift": 1.0}],
                "sources": {"twitter": 5}, "examples": [{"id": "0", "text": text, "url": url}],
                "scope": "national", "subregions": [], "first_regions": [{"code": "GB-ENG", "posts": 5}]}
    return timeline.ServiceTimeline(
        service="slack", name="Slack <b>", counts=counts, expected=counts * 0 + 1.0, chatter=counts * 0,
        scores=scores, incidents=[incident], rows=rows, until=index[-1] + pd.Timedelta("1min"),
        bin_size="1min", baseline_from="window")


def test_report_escapes_post_text_and_drops_unsafe_links():
    hostile = 'slack down <script>alert("x")</script> & <img src=x onerror=alert(1)>'
    page = html_report.render_html([_timeline_with(hostile, "javascript:alert(1)")], charts=False)
    assert "<script" not in page and "<img" not in page and "javascript:" not in page
    assert "slack down &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img" in page
    assert "Slack &lt;b&gt;" in page and "Slack <b>" not in page
    assert page.count("<blockquote>") == 6  # one example and five first reports
    safe = html_report.render_html([_timeline_with("down", 'https://x.com/a/1"onmouseover="x')],
                                   charts=False)
    assert "onmouseover" not in safe and "<a href" not in safe  # a quote cannot break out


def test_report_links_plain_post_urls_and_writes_atomically(tmp_path):
    page = html_report.render_html([_timeline_with("slack is down", "https://x.com/a/status/1")],
                                   inputs=["posts.jsonl"], title="Slack, 7 January")
    assert '<a href="https://x.com/a/status/1" rel="noopener noreferrer">link</a>' in page
    assert "<title>Slack, 7 January</title>" in page and "read from posts.jsonl" in page
    assert 'src="data:image/png;base64,' in page
    out = html_report.write_html(page, tmp_path / "r.html")
    assert out.read_text(encoding="utf-8") == page
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot write"):
        html_report.write_html(page, blocker / "r.html")
    with pytest.raises(InputError, match="nothing to report"):
        html_report.render_html([])


def test_report_without_incidents_shows_the_busiest_service(tmp_path):
    posts = [post_from_dict(record(i, text="is chatgpt down?", author=f"a{i}", service="chatgpt",
                                   created_at=f"2024-12-26T{10 + 2 * i:02d}:00:00Z")) for i in range(5)]
    lines = timeline.timelines(posts, load_catalog({}))
    assert [line.service for line in lines] == ["chatgpt"] and lines[0].incidents == []
    page = html_report.render_html(lines, charts=False)
    assert "No incident in this window." in page and "0 incidents in 1 service" in page


def test_timeline_with_a_stored_baseline_is_judged_against_it(sample_posts, chatgpt, catalog):
    from outage_signals import baseline_store

    stored = {"chatgpt": baseline_store.fit_service(chatgpt.counts, chatgpt.chatter)}
    line = timeline.service_timeline(sample_posts, catalog, "chatgpt", baselines=stored)
    assert line.baseline_from == "stored"
    expected = stored["chatgpt"].relevant.expected(line.counts.index)
    assert line.expected.to_numpy() == pytest.approx(expected)
    assert [i["level"] for i in line.incidents] == ["likely"]
    assert "baseline from a baseline file" in plotting.timeline_figure(line).get_suptitle()
