"""Hot issues on real citizens' messages (needs ../shared/data, see its README)."""

from __future__ import annotations

import datetime as dt

import pytest

from bench.hot_issues import DATA, read_messages, sliding_spikes
from hotline.insight import clustering
from hotline.triage.text import segment

# The last quarter of the TipDM messages (2019-11 to 2020-01): 725 messages, among
# them a thread of ~40 complaints about a concrete mixing plant (搅拌站) next to the 丽发新城
# estate in A2区, the competition's best-known hot issue of that period.
SLICE_FROM = dt.datetime(2019, 11, 1, tzinfo=dt.UTC)


@pytest.mark.shared_data
def test_the_known_hot_topic_of_the_last_quarter_is_found() -> None:
    if not DATA.exists():
        pytest.skip(f"shared data absent: {DATA} (see shared/data/README.md)")
    messages = [m for m in read_messages() if m["at"] is not None and m["at"] >= SLICE_FROM]
    assert 600 < len(messages) < 1000
    words = [(segment(m["subject"]), segment(m["text"][:clustering.TEXT_CHARS]))
             for m in messages]
    docs = [clustering.decode(clustering.encode(t, x)) for t, x in words]
    clusters = clustering.cluster(docs, words_of=lambda ix: {i: words[i][0] + words[i][1]
                                                            for i in ix})
    top = clusters[0]
    about_it = [i for i in top.members
                if "丽发新城" in messages[i]["subject"] + messages[i]["text"]
                and "搅拌" in messages[i]["subject"] + messages[i]["text"]]
    assert top.size >= 30 and len(about_it) >= 0.95 * top.size
    assert "丽发新城" in top.label or "搅拌站" in top.label
    found = sliding_spikes(messages, clusters)
    assert any(s["label"] == top.label and s["first_window_end"] >= "2019-11" for s in found)
