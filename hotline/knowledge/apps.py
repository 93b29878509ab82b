from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "hotline.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge base")

    def ready(self) -> None:
        from hotline.core import segmentation
        from hotline.knowledge.dictionary import catalogue_words, synonym_map
        from hotline.search import query

        # Every search (entries and orders) keeps the catalogue's names whole and expands the
        # knowledge base's synonyms.
        segmentation.set_user_word_source(catalogue_words)
        query.set_synonym_source(synonym_map)
