"""A coordinator shares a case with clinics, revokes a clinic's link and publishes a clinic's answer."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinics.models import Clinic
from inquiries.models import (
    EmailKind,
    Inquiry,
    InquiryStatus,
    OutgoingEmail,
    TimelineKind,
    hash_token,
)
from referrals.models import CanTreat, ClinicAnswer, Referral
from staff.models import AuditAction, AuditEntry
from staff.roles import COORDINATOR
from tests.support.browser import browser_marks, staff_sign_in
from tests.support.patients import follow_up_url_from, path_of, pdf_bytes, submit, tr, upload
from tests.support.staff import make_staff, signed_in

pytestmark = pytest.mark.django_db

HANBIT = "hanbit-neuroscience-hospital"  # chosen by the patient; Korean emails
BUSAN = "busan-haeundae-neuro-centre"  # chosen by the patient; Korean emails
INCHEON = "incheon-gateway-medical-center"  # a match for the condition; English emails


@pytest.fixture
def case(client, demo):
    """A Russian patient's request naming Hanbit and Busan, with two files; the follow-up link."""
    submit(
        client,
        email="anna@example.com",
        full_name="Anna Ivánova",
        phone="+7 701 234 5678",
        contact_handle="anna_iv",
        preferred_clinics=[HANBIT, BUSAN],
        files=[upload("mri.pdf", pdf_bytes()), upload("letter.pdf", pdf_bytes(10))],
    )
    [confirmation] = [email for email in mail.outbox if email.to == ["anna@example.com"]]
    mail.outbox.clear()
    return Inquiry.objects.get(), path_of(follow_up_url_from(confirmation))


@pytest.fixture
def coordinator():
    return make_staff("minji", COORDINATOR, languages=["ru"])


def clinic(slug):
    return Clinic.objects.get(slug=slug)


def version_of(inquiry):
    return Inquiry.objects.values_list("version", flat=True).get(pk=inquiry.pk)


def share_data(inquiry, clinics, files=(), note="", action="share"):
    return {
        "version": version_of(inquiry),
        "clinics": [str(clinic(slug).pk) for slug in clinics],
        "attachments": [str(inquiry.attachments.get(original_name=name).pk) for name in files],
        "note": note,
        "action": action,
    }


def share_url(inquiry):
    return f"/workspace/{inquiry.reference}/share/"


def text_of(response):
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode())))


def case_link(email):
    return path_of(re.search(r"http://\S+/clinic-case/\S+/", email.body).group(0))


# --- sharing -------------------------------------------------------------------------------------


def test_sharing_with_two_clinics_sends_each_a_private_link_in_its_language(case, coordinator, client):
    inquiry, _link = case
    coordinator_client = signed_in(coordinator)
    response = coordinator_client.post(
        share_url(inquiry), share_data(inquiry, [HANBIT, INCHEON], files=["mri.pdf"], note="Please be quick")
    )
    assert response.status_code == 302

    referrals = {referral.clinic.slug: referral for referral in Referral.objects.select_related("clinic")}
    assert set(referrals) == {HANBIT, INCHEON}
    assert [referrals[HANBIT].language, referrals[INCHEON].language] == ["ko", "en"]
    for referral in referrals.values():
        assert referral.shared_by == coordinator
        assert referral.note_to_clinic == "Please be quick"
        assert not referral.shares_identity
        assert timedelta(days=13, hours=23) < referral.expires_at - timezone.now() <= timedelta(days=14)

    emails = {email.to[0]: email for email in mail.outbox if email.to[0].startswith("international@")}
    assert set(emails) == {f"international@{HANBIT}.example", f"international@{INCHEON}.example"}
    korean = emails[f"international@{HANBIT}.example"]
    assert "한빛대학교 신경과학병원" in korean.body  # the clinic's name in Korean
    assert case_link(korean).startswith("/ko/clinic-case/")
    assert case_link(emails[f"international@{INCHEON}.example"]).startswith("/en/clinic-case/")
    assert "Please be quick" not in korean.body and "mri.pdf" not in korean.body  # the case stays on the site
    assert OutgoingEmail.objects.filter(kind=EmailKind.CLINIC_REFERRAL).count() == 2

    # The links work, and only their hash is kept.
    for email in emails.values():
        token = case_link(email).rstrip("/").rsplit("/", 1)[1]
        assert Referral.objects.filter(token_hash=hash_token(token)).exists()
        assert not Referral.objects.filter(token_hash=token).exists()
        assert client.get(case_link(email)).status_code == 200

    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.WITH_CLINICS
    shared = inquiry.timeline.filter(kind=TimelineKind.SHARED_WITH_CLINIC)
    assert shared.count() == 2 and not shared.filter(is_public=True).exists()
    assert {entry.body for entry in shared} == {
        "Hanbit University Neuroscience Hospital\nmri.pdf",
        "Incheon Gateway Medical Center\nmri.pdf",
    }
    assert AuditEntry.objects.filter(action=AuditAction.SHARE, user=coordinator).count() == 2
    # The patient hears that the request went to clinics, in their language, without the details.
    [notice] = [email for email in mail.outbox if email.to == ["anna@example.com"]]
    assert "Hanbit" not in notice.body

    page = text_of(coordinator_client.get(f"/workspace/{inquiry.reference}/"))
    assert "Hanbit University Neuroscience Hospital" in page and "No answer yet." in page


def test_unticked_files_are_not_shared(case, coordinator, client):
    inquiry, _link = case
    signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT], files=["letter.pdf"]))
    referral = Referral.objects.get()
    assert [attachment.original_name for attachment in referral.attachments.all()] == ["letter.pdf"]
    [email] = [email for email in mail.outbox if email.to == [f"international@{HANBIT}.example"]]
    clinic_page = client.get(case_link(email)).content.decode()
    assert "letter.pdf" in clinic_page and "mri.pdf" not in clinic_page


def test_nothing_ticked_shares_no_file(case, coordinator):
    inquiry, _link = case
    signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    assert Referral.objects.get().attachments.count() == 0


@pytest.mark.parametrize("consented", [True, False])
def test_the_preview_shows_name_and_contact_only_with_the_patients_consent(case, coordinator, consented):
    inquiry, _link = case
    if consented:
        Inquiry.objects.filter(pk=inquiry.pk).update(consent_share_at=timezone.now())
    response = signed_in(coordinator).post(
        share_url(inquiry), share_data(inquiry, [HANBIT, BUSAN], files=["mri.pdf"], action="preview")
    )
    assert response.status_code == 200
    page = text_of(response)
    assert ("Anna Ivánova" in page) is consented
    assert ("anna@example.com" in page) is consented
    assert ("anna_iv" in page) is consented
    assert ("Not shared: the patient did not agree" in page) is not consented
    assert page.count("Email to international@") == 2
    assert "mri.pdf" in page and "letter.pdf" not in page
    assert "My mother has ankle clonus." in page
    assert not Referral.objects.exists()  # nothing is shared by a preview

    signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT, BUSAN], files=["mri.pdf"]))
    assert set(Referral.objects.values_list("shares_identity", flat=True)) == {consented}


def test_the_share_page_offers_the_patients_clinics_first_then_matches_without_those_shared(
    case, coordinator
):
    inquiry, _link = case
    client = signed_in(coordinator)
    client.post(share_url(inquiry), share_data(inquiry, [BUSAN]))
    html = client.get(share_url(inquiry)).content.decode()
    offered = re.findall(
        r'<li( class="chosen-by-patient" data-chosen)?>\s*<input type="checkbox" name="clinics" value="(\d+)"',
        html,
    )
    names = [(bool(chosen), Clinic.objects.get(pk=pk).slug) for chosen, pk in offered]
    assert names[0] == (True, HANBIT)
    assert BUSAN not in [slug for _chosen, slug in names]  # shared already
    assert len(names) > 2 and not any(chosen for chosen, _slug in names[1:])
    assert INCHEON in [slug for _chosen, slug in names]


def test_no_clinic_chosen_is_refused_with_a_translated_error(case, coordinator):
    inquiry, _link = case
    client = signed_in(coordinator)
    response = client.post(
        share_url(inquiry), share_data(inquiry, [], action="preview"), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    assert tr("en", "Choose at least one clinic to share the case with.") in text_of(response)
    assert not Referral.objects.exists()


def test_a_clinic_without_an_email_for_cases_cannot_be_chosen(case, coordinator):
    inquiry, _link = case
    Clinic.objects.filter(slug=BUSAN).update(contact_email="")
    client = signed_in(coordinator)
    page = text_of(client.get(share_url(inquiry)))
    assert "No email for shared cases: add one to the clinic in the admin first." in page
    response = client.post(share_url(inquiry), share_data(inquiry, [HANBIT, BUSAN]))
    assert response.status_code == 400
    assert "Busan Haeundae Neuro Centre cannot receive the case: No email for shared cases" in text_of(
        response
    )
    assert not Referral.objects.exists() and not OutgoingEmail.objects.filter(kind=EmailKind.CLINIC_REFERRAL)


def test_a_clinic_not_offered_is_refused(case, coordinator):
    inquiry, _link = case
    unlisted = Clinic.objects.get(slug="unlisted-neurology-clinic")
    data = {**share_data(inquiry, [HANBIT]), "clinics": [str(unlisted.pk)]}
    response = signed_in(coordinator).post(share_url(inquiry), data)
    assert response.status_code == 400
    assert "Choose clinics from the list." in text_of(response)
    assert not Referral.objects.exists()


def test_a_form_built_before_another_change_shares_nothing(case, coordinator):
    inquiry, _link = case
    data = share_data(inquiry, [HANBIT])
    signed_in(make_staff("bold", COORDINATOR)).post(
        f"/workspace/{inquiry.reference}/note/", {"version": version_of(inquiry), "note": "Checked the MRI"}
    )
    response = signed_in(coordinator).post(share_url(inquiry), data)
    assert response.status_code == 409
    assert "This inquiry was changed by bold" in text_of(response)
    assert not Referral.objects.exists()


# --- revoking ------------------------------------------------------------------------------------


def test_a_revoked_link_stops_working(case, coordinator, client):
    inquiry, _link = case
    coordinator_client = signed_in(coordinator)
    coordinator_client.post(share_url(inquiry), share_data(inquiry, [HANBIT, BUSAN]))
    hanbit = Referral.objects.get(clinic__slug=HANBIT)
    [email] = [email for email in mail.outbox if email.to == [f"international@{HANBIT}.example"]]
    assert client.get(case_link(email)).status_code == 200

    response = coordinator_client.post(
        f"/workspace/{inquiry.reference}/clinics/{hanbit.pk}/revoke/", {"version": version_of(inquiry)}
    )
    assert response.status_code == 302
    hanbit.refresh_from_db()
    assert hanbit.revoked_at is not None
    assert client.get(case_link(email)).status_code == 404
    assert Referral.objects.get(clinic__slug=BUSAN).revoked_at is None
    entry = inquiry.timeline.get(kind=TimelineKind.CLINIC_LINK_REVOKED)
    assert (entry.is_public, entry.author, entry.body) == (
        False,
        coordinator,
        "Hanbit University Neuroscience Hospital",
    )
    assert AuditEntry.objects.filter(action=AuditAction.REVOKE, object_id=str(hanbit.pk)).count() == 1
    page = text_of(coordinator_client.get(f"/workspace/{inquiry.reference}/"))
    assert "Link revoked on" in page and page.count("Revoke link") == 1


# --- publishing ----------------------------------------------------------------------------------


def answered(referral, **fields):
    doctor = referral.clinic.doctors.first()
    return ClinicAnswer.objects.create(
        referral=referral,
        can_treat=CanTreat.YES,
        plan="Intrathecal baclofen trial, then implantation",
        doctor=doctor,
        earliest_start=timezone.localdate() + timedelta(days=20),
        stay_days=7,
        price_min_krw=25_000_000,
        price_max_krw=32_000_000,
        included="Trial dose, surgery, one refill",
        valid_until=timezone.localdate() + timedelta(days=60),
        text_language="en",
        **fields,
    )


def test_publishing_an_answer_shows_it_to_the_patient(case, coordinator, client):
    inquiry, follow_up = case
    coordinator_client = signed_in(coordinator)
    coordinator_client.post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    referral = Referral.objects.get()
    answer = answered(referral)
    mail.outbox.clear()

    page = coordinator_client.get(f"/workspace/{inquiry.reference}/")
    text = text_of(page)
    assert "Intrathecal baclofen trial" in text and "Trial dose, surgery, one refill" in text
    revision = re.search(r'name="revision" value="([^"]+)"', page.content.decode()).group(1)
    assert "We will call you" not in text_of(client.get(follow_up))

    response = coordinator_client.post(
        f"/workspace/{inquiry.reference}/clinics/{referral.pk}/publish/",
        {"version": version_of(inquiry), "revision": revision, "note": "We will call you about this offer."},
    )
    assert response.status_code == 302
    answer.refresh_from_db()
    assert (answer.published_by, answer.coordinator_note) == (
        coordinator,
        "We will call you about this offer.",
    )
    assert answer.published_at is not None
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED
    entry = inquiry.timeline.get(kind=TimelineKind.ANSWER_PUBLISHED)
    assert entry.is_public
    assert AuditEntry.objects.filter(action=AuditAction.PUBLISH, object_id=str(referral.pk)).count() == 1
    [notice] = [email for email in mail.outbox if email.to == ["anna@example.com"]]
    assert "We will call you" not in notice.body  # the notice carries a link, never the message
    assert "We will call you about this offer." in text_of(client.get(follow_up))
    assert "Publish to the patient" not in text_of(coordinator_client.get(f"/workspace/{inquiry.reference}/"))

    again = coordinator_client.post(
        f"/workspace/{inquiry.reference}/clinics/{referral.pk}/publish/",
        {"version": version_of(inquiry), "revision": revision, "note": ""},
    )
    assert again.status_code == 400 and "This answer is published already." in text_of(again)
    assert AuditEntry.objects.filter(action=AuditAction.PUBLISH).count() == 1


def test_an_answer_revised_after_the_page_was_read_is_not_published_unread(case, coordinator):
    inquiry, _follow_up = case
    coordinator_client = signed_in(coordinator)
    coordinator_client.post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    referral = Referral.objects.get()
    answer = answered(referral)
    page = coordinator_client.get(f"/workspace/{inquiry.reference}/").content.decode()
    revision = re.search(r'name="revision" value="([^"]+)"', page).group(1)
    ClinicAnswer.objects.filter(pk=answer.pk).update(revised_at=timezone.now(), stay_days=10)

    response = coordinator_client.post(
        f"/workspace/{inquiry.reference}/clinics/{referral.pk}/publish/",
        {"version": version_of(inquiry), "revision": revision, "note": ""},
    )
    assert response.status_code == 400
    assert "The clinic revised its answer after you opened this page." in text_of(response)
    answer.refresh_from_db()
    assert answer.published_at is None


def test_an_unanswered_referral_cannot_be_published(case, coordinator):
    inquiry, _follow_up = case
    coordinator_client = signed_in(coordinator)
    coordinator_client.post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    referral = Referral.objects.get()
    response = coordinator_client.post(
        f"/workspace/{inquiry.reference}/clinics/{referral.pk}/publish/",
        {"version": version_of(inquiry), "revision": "", "note": ""},
    )
    assert response.status_code == 400 and "The clinic has not answered yet." in text_of(response)


# --- reach ---------------------------------------------------------------------------------------


def test_a_coordinator_who_cannot_see_the_inquiry_gets_404_on_every_sharing_url(case, coordinator):
    inquiry, _follow_up = case
    signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    referral = Referral.objects.get()
    answered(referral)
    outsider = signed_in(
        make_staff("jeju-only", COORDINATOR, clinics=[clinic("jeju-seaside-recovery-hospital")])
    )
    base = f"/workspace/{inquiry.reference}"
    assert outsider.get(f"{base}/share/").status_code == 404
    assert outsider.post(f"{base}/share/", share_data(inquiry, [BUSAN])).status_code == 404
    version = {"version": version_of(inquiry), "note": "", "revision": ""}
    assert outsider.post(f"{base}/clinics/{referral.pk}/revoke/", version).status_code == 404
    assert outsider.post(f"{base}/clinics/{referral.pk}/publish/", version).status_code == 404
    referral.refresh_from_db()
    assert referral.revoked_at is None and not ClinicAnswer.objects.published().exists()
    assert Referral.objects.count() == 1


def test_a_referral_of_another_inquiry_is_not_found(case, coordinator, client):
    inquiry, _follow_up = case
    signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    referral = Referral.objects.get()
    submit(client, email="olga@example.com")
    other = Inquiry.objects.get(email="olga@example.com")
    response = signed_in(coordinator).post(
        f"/workspace/{other.reference}/clinics/{referral.pk}/revoke/", {"version": version_of(other)}
    )
    assert response.status_code == 404
    referral.refresh_from_db()
    assert referral.revoked_at is None


# --- the inquiry page's queries ------------------------------------------------------------------


def test_the_inquiry_page_lists_shared_clinics_in_constant_queries(case, coordinator):
    inquiry, _follow_up = case
    client = signed_in(coordinator)
    client.post(share_url(inquiry), share_data(inquiry, [HANBIT], files=["mri.pdf"]))
    answered(Referral.objects.get())

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/workspace/{inquiry.reference}/").status_code == 200
        return len(captured)

    one = queries()
    client.post(share_url(inquiry), share_data(inquiry, [BUSAN, INCHEON], files=["mri.pdf", "letter.pdf"]))
    for referral in Referral.objects.exclude(clinic__slug=HANBIT):
        answered(referral)
    assert queries() == one


# --- in the browser ------------------------------------------------------------------------------


def in_the_browser(test):
    for mark in browser_marks():
        test = mark(test)
    return test


@in_the_browser
def test_a_coordinator_shares_a_case_and_publishes_an_answer(page, demo_site, client, console_errors):
    submit(
        client,
        email="anna@example.com",
        preferred_clinics=[HANBIT, BUSAN],
        files=[upload("mri.pdf", pdf_bytes()), upload("letter.pdf", pdf_bytes(10))],
    )
    inquiry = Inquiry.objects.get()
    make_staff("minji", COORDINATOR, languages=["ru"])
    staff_sign_in(
        page, demo_site, "minji", "a-long-staff-password", next_path=f"/workspace/{inquiry.reference}/"
    )
    page.click("text=Share with clinics")
    page.wait_for_url(f"**/workspace/{inquiry.reference}/share/")
    page.click("button[data-preview]")
    page.locator(".field-error", has_text="Choose at least one clinic to share the case with.").wait_for()

    page.get_by_label("Hanbit University Neuroscience Hospital").check()
    page.get_by_label("Incheon Gateway Medical Center").check()
    page.get_by_label("mri.pdf").check()
    page.fill("[name=note]", "Could you see her in March?")
    page.click("button[data-preview]")
    page.locator("[data-preview-clinic]").first.wait_for()
    assert page.locator("[data-preview-clinic]").count() == 2
    assert page.locator("[data-no-identity]").count() == 2
    assert page.locator("[data-files]").first.inner_text().strip() == "mri.pdf"
    assert not Referral.objects.exists()
    page.click("button[data-share]")
    page.wait_for_url(f"**/workspace/{inquiry.reference}/")
    page.locator(".message", has_text="The case was shared with 2 clinics.").wait_for()

    referrals = Referral.objects.order_by("clinic__slug")
    assert [referral.clinic.slug for referral in referrals] == [HANBIT, INCHEON]
    assert {
        attachment.original_name for referral in referrals for attachment in referral.attachments.all()
    } == {"mri.pdf"}
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.WITH_CLINICS

    answered(Referral.objects.get(clinic__slug=HANBIT))
    page.reload()
    hanbit = page.locator(f"[data-referral={HANBIT}]")
    hanbit.locator("[name=note]").fill("Our favourite offer.")
    hanbit.locator("text=Publish to the patient").click()
    page.locator(".message", has_text="is now shown to the patient").wait_for()
    answer = ClinicAnswer.objects.get()
    assert (answer.coordinator_note, answer.published_by.get_username()) == ("Our favourite offer.", "minji")
    inquiry.refresh_from_db()
    assert inquiry.status == InquiryStatus.ANSWERED

    # The other clinic's link is revoked, and the inquiry page says so.
    page.locator(f"[data-referral={INCHEON}]").locator("text=Revoke link").click()
    page.locator(f"[data-referral={INCHEON}] [data-link-state]", has_text="Link revoked on").wait_for()
    assert Referral.objects.get(clinic__slug=INCHEON).revoked_at is not None
    assert Referral.objects.get(clinic__slug=HANBIT).revoked_at is None
    assert [error for error in console_errors if "status of 400" not in error] == []  # the refused form


def test_a_closed_inquiry_is_not_shared(case, coordinator):
    inquiry, _link = case
    Inquiry.objects.filter(pk=inquiry.pk).update(status=InquiryStatus.CLOSED, closing_reason="duplicate")
    response = signed_in(coordinator).post(share_url(inquiry), share_data(inquiry, [HANBIT]))
    assert response.status_code == 400
    assert "This inquiry is closed: reopen it before sharing it." in text_of(response)
    assert not Referral.objects.exists()


def test_erasing_the_patients_data_closes_the_clinics_links_and_clears_what_they_were_told(
    case, coordinator, client
):
    from inquiries.services import inquiry_anonymise
    from referrals.services import referral_share

    inquiry, _follow_up = case
    referral_share(
        inquiry=inquiry,
        clinics=[clinic(HANBIT)],
        attachments=[],
        note="Her MRI shows a lesion.",
        by=coordinator,
    )
    [email] = [email for email in mail.outbox if email.to == [clinic(HANBIT).contact_email]]
    referral = Referral.objects.get()
    answered(referral)
    assert client.get(case_link(email)).status_code == 200

    inquiry_anonymise(inquiry=inquiry, by=coordinator)

    referral.refresh_from_db()
    answer = ClinicAnswer.objects.get()
    assert referral.revoked_at is not None and referral.note_to_clinic == ""
    assert (answer.plan, answer.included, answer.coordinator_note) == ("", "", "")
    assert client.get(case_link(email)).status_code == 404
