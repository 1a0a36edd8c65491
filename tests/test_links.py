"""Citations that resolve: archive links for Biden-era pages, the Presidency Project named as such, one date,
and a CSV a spreadsheet reads as UTF-8."""

import csv
import io
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from corpus_slices import CORPUS, SEEDS
from indexer.ingest.readers import archived_url, read_document
from indexer.search import Result
from indexer.search.export import results_csv
from indexer.search.results import citation

WHITEHOUSE_SEED = SEEDS / "2021-12-30-background-press-call-biden-putin.whitehouse.md"
PRESIDENCY_SEED = SEEDS / "2022-02-12-background-press-call-biden-putin.presidency-project.txt"
PATH = "/briefing-room/press-briefings/2022/03/07/press-briefing-by-press-secretary-jen-psaki-march-7th-2022/"
ARCHIVE_HOSTS = {"bidenwhitehouse.archives.gov", "obamawhitehouse.archives.gov", "trumpwhitehouse.archives.gov",
                 "www.presidency.ucsb.edu"}


def result(**fields) -> Result:
    base = dict(rank=1, score=0.5, text="We stand with Ukraine.", highlight="", speaker="Jen Psaki",
                role="official", question=None, title="Press Briefing by Press Secretary Jen Psaki, March 7th, 2022",
                date="2022-03-07", kind="press briefing", source_url=f"https://bidenwhitehouse.archives.gov{PATH}",
                doc_id="2022-03-07-press-briefing", passage_id="2022-03-07-press-briefing#t3p0-1")
    return Result(**base | fields)


@pytest.mark.parametrize("url, date, expected", [
    (f"https://www.whitehouse.gov{PATH}", "2022-03-07", f"https://bidenwhitehouse.archives.gov{PATH}"),
    (f"http://whitehouse.gov{PATH}", "2021-01-20", f"https://bidenwhitehouse.archives.gov{PATH}"),
    (f"https://bidenwhitehouse.archives.gov{PATH}", "2022-03-07", f"https://bidenwhitehouse.archives.gov{PATH}"),
    (f"https://www.whitehouse.gov{PATH}", "2025-02-03", f"https://www.whitehouse.gov{PATH}"),  # today's site
    (f"https://www.whitehouse.gov{PATH}", "2020-06-01", f"https://www.whitehouse.gov{PATH}"),
    (f"https://www.whitehouse.gov{PATH}", None, f"https://www.whitehouse.gov{PATH}"),
    ("https://www.whitehouse.gov/ostp/news/", "2022-03-07", "https://www.whitehouse.gov/ostp/news/"),
    (None, "2022-03-07", None),
])
def test_a_biden_era_briefing_room_link_is_rewritten_to_the_archive_with_the_same_path(url, date, expected):
    assert archived_url(url, date) == expected


def test_the_seed_that_says_www_whitehouse_gov_links_to_the_archive():
    assert read_document(WHITEHOUSE_SEED).source_url == (
        "https://bidenwhitehouse.archives.gov/briefing-room/press-briefings/2021/12/30/"
        "background-press-call-on-president-bidens-call-with-president-putin-of-the-russian-federation/")


def test_a_presidency_project_file_gives_its_link_when_its_footer_has_one(tmp_path):
    text = PRESIDENCY_SEED.read_text(encoding="utf-8").replace(
        "The American Presidency Project\n",
        "The American Presidency Project https://www.presidency.ucsb.edu/node/354185\n")
    path = tmp_path / "2022-02-12-call.presidency-project.txt"
    path.write_text(text, encoding="utf-8")

    assert read_document(path).source_url == "https://www.presidency.ucsb.edu/node/354185"
    assert read_document(PRESIDENCY_SEED).source_url is None


def test_a_citation_has_one_date_and_a_link_or_the_source_by_name():
    dated_title = result()
    undated_title = result(title="Press Gaggle by Press Secretary Jen Psaki")
    presidency = result(speaker="Senior Administration Official", source_url=None, date="2022-02-12",
                        title="Background Press Call on the President's Call with Russian President Vladimir Putin")

    assert citation(dated_title) == (
        f"Jen Psaki, Press Briefing by Press Secretary Jen Psaki, March 7th, 2022, https://bidenwhitehouse.archives.gov"
        f"{PATH}")
    assert citation(undated_title) == (
        f"Jen Psaki, Press Gaggle by Press Secretary Jen Psaki, March 7, 2022, https://bidenwhitehouse.archives.gov{PATH}")
    assert citation(presidency, "American Presidency Project") == (
        "Senior Administration Official, Background Press Call on the President's Call with Russian President "
        "Vladimir Putin, February 12, 2022, The American Presidency Project")
    assert citation(result(date=None, title="Statement", source_url=None), "plain text") == (
        "Jen Psaki, Statement, undated, plain text")


def test_the_csv_starts_with_a_byte_order_mark_so_a_spreadsheet_reads_utf_8():
    rows = [result(text="“We’re not going to get ahead of the President” — she said.")]
    with_bom = results_csv(rows, bom=True)

    assert with_bom.startswith("\ufeff\"rank\",\"score\",\"text\",")
    assert with_bom.encode("utf-8")[:3] == b"\xef\xbb\xbf"
    assert with_bom[1:] == results_csv(rows)
    assert next(csv.DictReader(io.StringIO(with_bom.encode("utf-8").decode("utf-8-sig"))))["text"] == rows[0].text


@pytest.mark.slow
def test_every_source_link_of_the_whole_corpus_is_https_on_an_archive_or_presidency_host():
    """Read with the readers (no index needed): document links come from them."""
    files = sorted(path for path in Path(CORPUS).rglob("*")
                   if path.is_file() and path.suffix in (".md", ".txt") and path.name != "README.md")
    hosts, unlinked, bad = {}, [], []
    for path in files:
        doc = read_document(path)
        if doc.source_url is None:
            unlinked.append(path.name)
            continue
        parts = urlsplit(doc.source_url)
        hosts[parts.netloc] = hosts.get(parts.netloc, 0) + 1
        if parts.scheme != "https" or parts.netloc not in ARCHIVE_HOSTS:
            bad.append((path.name, doc.source_url))

    assert len(files) > 10_000
    assert bad == []
    assert unlinked == [PRESIDENCY_SEED.name]  # its file gives no link: cited as The American Presidency Project
    assert hosts == {"bidenwhitehouse.archives.gov": len(files) - 1}
