"""The knowledge base's words for every search: the words the segmentation keeps whole (the
catalogue's names and the synonyms) and the synonyms a query expands with.

``KnowledgeConfig.ready`` registers ``catalogue_words`` as the user dictionary's source of
``hotline.core.segmentation`` and ``synonym_map`` as the synonyms of ``hotline.search.query``;
the admin, the demo loader and ``rebuild_knowledge_index`` reload the dictionary after changes
to synonyms (processes pick other changes up by themselves).
"""

from __future__ import annotations

from hotline.core import segmentation
from hotline.search.query import SynonymMap


def catalogue_words() -> set[str]:
    """Names the segmenter must keep whole: categories, units, districts (with and without
    their 区/县/市 suffix), and every synonym."""
    from hotline.directory.models import Category, District, Unit
    from hotline.knowledge.models import Synonym

    words: set[str] = set()
    words.update(Category.objects.filter(active=True).values_list("name", flat=True))
    words.update(Unit.objects.filter(active=True).values_list("name", flat=True))
    for name in District.objects.values_list("name", flat=True):
        words.add(name)
        if len(name) > 2 and name[-1] in "区县市":
            words.add(name[:-1])
    for synonym in Synonym.objects.all():
        words.update(synonym.words())
    return segmentation.dictionary_words(words)


def synonym_map() -> SynonymMap:
    """Each word of a synonym group -> every word of its groups (admin-managed, read per query:
    the table is small and an edit must take effect at once)."""
    from hotline.knowledge.models import Synonym

    mapping: SynonymMap = {}
    for synonym in Synonym.objects.all():
        group = [segmentation.normalise(w) for w in synonym.words()]
        for word in group:
            mapping.setdefault(word, [])
            mapping[word].extend(w for w in group if w not in mapping[word])
    return mapping
