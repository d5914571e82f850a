"""Demo inquiries in several languages and states, and a demo coordinator and lead, so that a new
user sees the workspace in a minute. Created once: a second run changes nothing (and prints no
credentials again)."""

import base64
import io
import secrets
import uuid

import segno
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinics.models import Clinic
from conditions.models import Condition
from inquiries.forms import CONSENT_HEALTH_DATA
from inquiries.models import Inquiry, InquiryStatus
from inquiries.services import inquiry_add_patient_reply, inquiry_assign, inquiry_create, inquiry_respond
from staff.models import CoordinatorProfile
from staff.roles import COORDINATOR, COORDINATOR_LEAD

DEMO_DOMAIN = "demo.clinicportal.example"

PATIENTS = [
    # name, language, country, clinics, message
    (
        "Айгерим Бекова",
        "ru",
        "KZ",
        ["hanbit-neuroscience-hospital"],
        "Клонус в левой ноге после травмы спины.",
    ),
    ("Батбаяр Дорж", "mn", "MN", ["busan-haeundae-neuro-centre"], "Аавын гар чичирдэг, инсультын дараа."),
    ("فاطمة الزهراني", "ar", "SA", [], "أعاني من تشنجات في الكاحل بعد إصابة في الحبل الشوكي."),
    (
        "Nguyễn Thị Lan",
        "vi",
        "VN",
        ["hanbit-neuroscience-hospital"],
        "Mẹ tôi bị co giật cơ chân sau đột quỵ.",
    ),
    ("佐藤 由紀", "ja", "JP", [], "足首のクローヌスについて相談したいです。"),
    ("Olga Petrova", "ru", "RU", ["busan-haeundae-neuro-centre"], "Is botulinum toxin an option for my son?"),
]


def _staff(username, role, languages):
    """A demo staff user with a confirmed authenticator; returns (user, password, secret) when created."""
    user_model = get_user_model()
    if user_model.objects.filter(username=username).exists():
        return user_model.objects.get(username=username), None
    password = secrets.token_urlsafe(12)
    user = user_model.objects.create_user(
        username, f"{username}@{DEMO_DOMAIN}", password, is_staff=True, first_name="Demo"
    )
    user.groups.set(Group.objects.filter(name=role))
    CoordinatorProfile.objects.create(user=user, languages=languages)
    device = TOTPDevice.objects.create(user=user, name="Demo phone", confirmed=True)
    return user, (password, device)


def _enrolment(username, password, device):
    secret = base64.b32encode(device.bin_key).decode()
    qr = io.StringIO()
    segno.make(device.config_url, error="m").terminal(out=qr, compact=True)
    return (
        f"\n  {username} / {password}\n"
        f"  authenticator key (add it to your app, or scan the code below): {secret}\n{qr.getvalue()}"
    )


def load():
    coordinator, created_coordinator = _staff("demo-coordinator", COORDINATOR, ["ru", "mn", "ko"])
    lead, created_lead = _staff("demo-lead", COORDINATOR_LEAD, ["en", "ar", "vi"])
    created = 0
    if not Inquiry.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").exists():
        created = _inquiries(coordinator, lead)
    printed = [
        _enrolment(user.get_username(), *credentials)
        for user, credentials in ((coordinator, created_coordinator), (lead, created_lead))
        if credentials
    ]
    summary = f"{created} demo inquiries; demo staff: demo-coordinator, demo-lead"
    if printed:
        summary += " (sign in at /staff/sign-in/ — these passwords are shown only now):" + "".join(printed)
    return summary


def _inquiries(coordinator, lead):
    clonus = Condition.objects.filter(slug="clonus").first()
    clinics = {clinic.slug: clinic for clinic in Clinic.objects.all()}
    made = []
    for number, (name, language, country, slugs, message) in enumerate(PATIENTS):
        inquiry, _token = inquiry_create(
            data={
                "full_name": name,
                "email": f"patient{number}@{DEMO_DOMAIN}",
                "phone": "",
                "contact_channel": "email",
                "contact_handle": "",
                "country": country,
                "language": language,
                "patient_relation": "self",
                "patient_age": 30 + number * 7,
                "condition": clonus,
                "symptom_duration": "1_6_months",
                "diagnosis": "",
                "medications": "",
                "message": message,
                "travel_from": None,
                "travel_until": None,
                "consent_news": False,
            },
            clinics=[clinics[slug] for slug in slugs if slug in clinics],
            uploads=[],
            submission_key=uuid.uuid4(),
            consent_text=str(CONSENT_HEALTH_DATA),
        )
        made.append(inquiry)
    anna, bat, fatima, lan, _yuki, olga = made
    # Overdue: received two days ago, nobody has answered.
    Inquiry.objects.filter(pk=fatima.pk).update(
        created_at=timezone.now() - timezone.timedelta(days=2),
        first_response_due_at=timezone.now() - timezone.timedelta(days=1),
    )
    inquiry_assign(inquiry=anna, to=coordinator, by=lead)
    inquiry_respond(
        inquiry=anna, by=coordinator, message="Мы изучаем ваш запрос.", to=InquiryStatus.IN_REVIEW
    )
    inquiry_assign(inquiry=bat, to=coordinator, by=lead)
    inquiry_respond(inquiry=bat, by=coordinator, to=InquiryStatus.IN_REVIEW)
    inquiry_respond(
        inquiry=bat,
        by=coordinator,
        message="МРТ-ийн дүгнэлтээ хавсаргана уу.",
        to=InquiryStatus.WAITING_FOR_PATIENT,
    )
    inquiry_add_patient_reply(inquiry=lan, message="Tôi đã gửi thêm kết quả MRI.", uploads=[])
    inquiry_respond(
        inquiry=olga, by=lead, message="Internal: ask Dr. Kim about botulinum toxin.", public=False
    )
    return len(made)
