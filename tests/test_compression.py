"""Pages go out gzipped (clinic_portal.middleware.PageGZipMiddleware), padded against BREACH-style
guessing of their secrets, and whole."""

import gzip
import re

import pytest

from tests.factories import make_condition

pytestmark = pytest.mark.django_db


def without_tokens(html):
    # CSRF tokens are masked anew and submission keys drawn anew on every response.
    return re.sub(r'(name="(?:csrfmiddlewaretoken|submission_key)" value=")[^"]+', r"\1", html)


def test_a_compressed_page_is_the_page_with_padding_of_random_length(client):
    condition = make_condition(symptoms=20, causes=5)
    path = f"/ru/conditions/{condition.slug}/"

    plain = client.get(path)
    compressed = [client.get(path, HTTP_ACCEPT_ENCODING="gzip, deflate, br") for _ in range(12)]

    assert not plain.has_header("Content-Encoding")
    for response in compressed:
        assert response["Content-Encoding"] == "gzip"
        assert response["Content-Length"] == str(len(response.content))
        assert "Accept-Encoding" in response["Vary"]
        assert response.content[3] & gzip.FNAME  # the padding: a file name of random length
        page = gzip.decompress(response.content).decode()
        assert without_tokens(page) == without_tokens(plain.content.decode())
    assert len({len(response.content) for response in compressed}) > 1
