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
