"""Panels that higher apps add to condition and clinic pages: called once by the page's view, listed in
the page's contents, and the pages stand on their own without them."""

import re

import pytest

from tests.factories import make_clinic, make_condition

pytestmark = pytest.mark.django_db


def contents_links(html):
    contents = re.search(r'<nav class="toc".*?</nav>', html, re.S).group(0)
    return re.findall(r'href="#([\w-]+)"', contents)


def test_each_panel_has_its_line_in_the_contents_and_its_section(client):
    condition = make_condition(treatments=1)
    make_clinic(slug="seoul-neuro", treatments=[condition.condition_treatments.first().treatment])
    html = client.get(f"/en/conditions/{condition.slug}/").content.decode()
    links = contents_links(html)
    assert links[-3:] == ["clinics", "consultation", "review"]
    assert 'id="clinics"' in html and 'id="consultation"' in html
    assert 'data-clinic="seoul-neuro"' in html
    # The request form offers the clinic the page lists.
    assert re.search(r'name="preferred_clinics"[^>]*value="seoul-neuro"', html)


def test_a_condition_page_stands_without_the_panels_of_higher_apps(
    client, settings, django_assert_num_queries
):
    settings.CONDITION_PAGE_PANELS = []
    condition = make_condition(symptoms=2, treatments=2)
    make_clinic(slug="seoul-neuro", treatments=[condition.condition_treatments.first().treatment])
    # The page's own queries only: the panels' queries are theirs, run by the view when listed.
    with django_assert_num_queries(6):
        response = client.get(f"/en/conditions/{condition.slug}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "clinics" not in contents_links(html)
    assert 'id="consultation"' not in html and "seoul-neuro" not in html


def test_a_clinic_page_stands_without_the_request_form(client, settings):
    clinic = make_clinic(slug="seoul-neuro")
    with_form = client.get(clinic.get_absolute_url()).content.decode()
    settings.CLINIC_PAGE_PANELS = []
    without = client.get(clinic.get_absolute_url()).content.decode()
    assert 'id="consultation"' in with_form
    assert 'id="consultation"' not in without
    assert clinic.name in without
