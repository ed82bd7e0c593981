"""The report's self-contained HTML page (report.html, writers.HtmlIndex), read back with
the standard library's HTML parser: every table and figure inline, a section per setting,
the skipped runs and the provenance, nothing loaded from anywhere, every text escaped."""

import base64
import hashlib
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from support import ENTROPY, RANDOM, config, random_and_entropy, write_run
from test_results_provenance import session, write_provenance

from deepal_bench.cli import paper
from deepal_bench.cli.report import main
from deepal_bench.results import schema

SCRIPT = "<script>alert('strategy')</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
DIRECTORY = "<svg onload=alert(2)>"
MARGIN = [[0.5, 0.65, 0.75], [0.5, 0.66, 0.76], [0.5, 0.64, 0.74]]
TAGS = {
    "html", "head", "meta", "title", "link", "style", "body", "header", "h1", "h2", "h3", "p",
    "nav", "ul", "li", "a", "main", "section", "div", "table", "thead", "tbody", "tr", "th",
    "td", "figure", "img", "figcaption", "script",
}  # fmt: skip


class Page(HTMLParser):
    """The elements of a page: tags with attributes, the text of each section, scripts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.sections: dict[str, list[str]] = {}
        self.section_tags: dict[str, list[str]] = {}
        self.scripts: list[str] = []
        self._section: str | None = None
        self._in_script = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "section":
            self._section = attrs["id"]
            self.sections[self._section] = []
            self.section_tags[self._section] = []
        elif self._section is not None:
            self.section_tags[self._section].append(tag)
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
        elif self._section is not None:
            self.sections[self._section].append(data)

    def text(self, section: str) -> str:
        return " ".join(self.sections[section])

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]

    def body_rows(self, section: str) -> int:
        """Table rows of a section, header rows left out."""
        tags = self.section_tags[section]
        return tags.count("tr") - tags.count("thead")

    def heading(self, section: str) -> str:
        return self.sections[section][0]


def report_tree(root: Path) -> Path:
    """Two settings (20 and 5 epochs) of random, entropy and margin, one with provenance,
    one whose strategy and lr are crafted markup, an incomplete and a damaged run."""
    known = write_run(root / "random", config("random"), RANDOM, query_seconds=0.5)
    write_provenance(known, session(device="cpu (AMD EPYC)"))
    write_run(root / "entropy", config("entropy"), ENTROPY, query_seconds=2.0)
    write_run(root / "margin", config("margin"), MARGIN, query_seconds=1.0)
    write_run(root / "e5/random", config("random", trainer__epochs=5), RANDOM)
    write_run(root / "e5/entropy", config("entropy", trainer__epochs=5), ENTROPY)
    write_run(root / "crafted", config(SCRIPT, trainer__lr=ATTRIBUTE), ENTROPY)
    write_run(root / DIRECTORY, config("random", seed=7), RANDOM, done=False)
    damaged = write_run(root / "damaged", config("entropy", seed=9), ENTROPY)
    (damaged / schema.ROUNDS_FILE).write_text("not,a\nrounds,file\n")
    return root


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    root = report_tree(tmp_path_factory.mktemp("html") / "runs")
    out = root.parent / "report"
    assert main([str(root), "--out", str(out)]) == 0
    return out


def test_every_figure_is_inline_and_the_same_image(report):
    page = Page((report / "index.html").read_text())
    sources = [img["src"] for img in page.all("img")]
    pngs = sorted((report / "figures").glob("*.png"))
    assert len(sources) == len(pngs) > 4
    inline = {base64.b64decode(src.removeprefix("data:image/png;base64,")) for src in sources}
    assert inline == {png.read_bytes() for png in pngs}


def test_nothing_is_loaded_and_every_link_is_local(report):
    text = (report / "index.html").read_text()
    page = Page(text)
    assert not re.search(r"(src|href)=\"(https?:)?//", text)
    ids = {attrs["id"] for _, attrs in page.tags if "id" in attrs}
    for link in page.all("a"):
        href = link["href"]
        if href.startswith("#"):
            assert href[1:] in ids
        else:
            assert (report / href.replace("%2B", "+")).is_file(), href
    (policy,) = [m["content"] for m in page.all("meta") if "http-equiv" in m]
    assert "default-src 'none'" in policy and "img-src data:" in policy
    (script,) = page.scripts
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in policy  # only this script may run


def test_a_section_per_setting_with_its_rows_and_figures(report):
    page = Page((report / "index.html").read_text())
    settings = {page.heading(s): s for s in page.sections if s.startswith("setting-")}
    label = "Setting digits/lenet/10+20/10/imle-topk [trainer.epochs={}, trainer.lr=0.001]"
    twenty, five = settings[label.format(20)], settings[label.format(5)]
    assert len(settings) == 3  # and the crafted lr's
    assert "margin" in page.text(twenty) and "margin" not in page.text(five)
    for section in (twenty, five):
        text = page.text(section)
        assert "AUBC, F-acc and time ratio" in text and "Query s/round" in text
        assert "deepal-bench-plan's estimate vs the measured cost" in text
        assert "curve_" in text and "cost_" in text  # the figures' captions
    across = page.text("across")
    assert "Win-tie-loss" in across and "Dueling matrix" in across
    assert "auca_ratio_boxplot" in across


def test_skipped_runs_and_provenance_are_listed(report):
    page = Page((report / "index.html").read_text())
    skipped = page.text("skipped")
    assert "Skipped runs (2)" in skipped
    assert f"{DIRECTORY} incomplete incomplete (no completion marker)" in skipped
    assert "damaged records" in skipped
    runs = page.text("runs")
    assert "0.1.0@1a2b3c4" in runs and "cpu (AMD EPYC)" in runs and "unknown" in runs
    assert page.body_rows("runs") == len(pd.read_csv(report / "configs.csv")) == 6


def test_crafted_config_values_are_text_not_markup(report):
    text = (report / "index.html").read_text()
    page = Page(text)
    assert {tag for tag, _ in page.tags} <= TAGS
    assert len(page.all("script")) == 1 and len(page.scripts) == 1
    assert not [a for _, attrs in page.tags for a in attrs if a.startswith("on")]
    for raw in (SCRIPT, ATTRIBUTE, DIRECTORY):
        assert raw not in text
        assert any(raw in " ".join(words) for words in page.sections.values())


def test_the_paper_command_writes_the_page_too(tmp_path):
    root = tmp_path / "runs"
    random_and_entropy(root)
    out = tmp_path / "out"
    assert paper.main(["deepal_plus", str(root), "--out", str(out), "--no-figures"]) == 0
    page = Page((out / "index.html").read_text())
    text = " ".join(" ".join(words) for words in page.sections.values())
    titles = re.findall(r"^- (.+): \[\w+\.md\]", (out / "index.md").read_text(), re.M)
    assert len(titles) == 3 and all(title in text for title in titles)
    assert page.all("img") == [] and "Table 4: not built" in page.text("not-built")
