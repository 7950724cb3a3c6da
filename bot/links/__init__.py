"""Link lookups: find URLs in messages, fetch them safely, and read what the page says about itself.

The engine and adapters use only what is exported here.
"""

from bot.links.extract import extract_page
from bot.links.models import ClaimReviewInfo, FetchResult, PageInfo
from bot.links.resolver import LinkResolver
from bot.engine.urls import find_urls, strip_urls
from bot.links.urls import normalize_url

__all__ = [
    "ClaimReviewInfo",
    "FetchResult",
    "LinkResolver",
    "PageInfo",
    "extract_page",
    "find_urls",
    "normalize_url",
    "strip_urls",
]
