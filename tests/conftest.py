import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _restore_language():
    previous = translation.get_language()
    yield
    translation.activate(previous)


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate-limit counters live in the cache: every test starts with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
