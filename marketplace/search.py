"""Full-text search of listings on PostgreSQL; SQLite (the embedded default) falls back to icontains.

The GIN index (migration 0003, PostgreSQL only) is built from `listing_search_vector()` itself,
so the planner sees the very expression the queries use.
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Q, Value, When

SEARCH_CONFIG = "english"
SEARCH_INDEX_NAME = "listing_search_gin"


def listing_search_vector() -> SearchVector:
    return (
        SearchVector("title", weight="A", config=SEARCH_CONFIG)
        + SearchVector("brand", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="C", config=SEARCH_CONFIG)
    )


def search_index() -> GinIndex:
    return GinIndex(listing_search_vector(), name=SEARCH_INDEX_NAME)


def matching(listings, text: str):
    """Listings matching `text`, annotated with `search_rank` (higher is better)."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, search_type="websearch", config=SEARCH_CONFIG)
        vector = listing_search_vector()
        return listings.annotate(search_document=vector, search_rank=SearchRank(vector, query)).filter(
            search_document=query
        )
    # Every word must appear in the title, brand or description; the phrase in the title ranks first.
    condition = Q()
    for word in text.split():
        condition &= Q(title__icontains=word) | Q(brand__icontains=word) | Q(description__icontains=word)
    return listings.filter(condition).annotate(
        search_rank=Case(When(title__icontains=text, then=Value(1.0)), default=Value(0.0))
    )
