"""What a build reports: texts embedded, vectors reused from the previous version, and repeated texts embedded
once, told apart."""

from indexer.index.build import build_index

ANSWER = ("We are not going to get ahead of the schedule, but the President has been clear that our support for "
          "Ukraine's sovereignty and territorial integrity is unwavering.")
TRANSCRIPT = f"""MS. PSAKI: Good afternoon. The President will travel to Brussels next week to meet with NATO allies
about the further support we are giving Ukraine's military.

Q: Will he meet President Zelenskyy?

MS. PSAKI: {ANSWER}

Q: And on gas prices?

MS. PSAKI: {ANSWER}
"""


def test_a_fresh_index_says_repeated_passages_were_embedded_once_not_reused(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "2022-03-07-briefing.txt").write_text(TRANSCRIPT, encoding="utf-8")

    fresh = build_index([tmp_path / "docs"], tmp_path / "index", progress=False)
    again = build_index([tmp_path / "docs"], tmp_path / "index", progress=False)

    assert (fresh.passages, fresh.embedded, fresh.reused, fresh.repeated) == (3, 5, 0, 1)  # 3 passages and 3 prompts (the title, two questions), one answer twice
    assert fresh.summary().splitlines()[2] == (
        "passages and prompts: 5 embedded, 0 reused from the previous version, 1 repeated passage embedded once")
    assert (again.embedded, again.reused, again.repeated) == (0, 6, 0)
    assert again.summary().splitlines()[2] == "passages and prompts: 0 embedded, 6 reused from the previous version"
