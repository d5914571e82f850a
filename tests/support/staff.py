"""Staff users as the tests need them: in a role, signed in with a confirmed second factor."""

import time

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from staff import sessions
from staff.models import CoordinatorProfile


def make_staff(username, *roles, clinics=(), languages=(), active=True, **fields):
    user = get_user_model().objects.create_user(
        username,
        f"{username}@clinicportal.example",
        "a-long-staff-password",
        is_staff=True,
        is_active=active,
        **fields,
    )
    user.groups.set(Group.objects.filter(name__in=roles))
    if clinics or languages:
        profile = CoordinatorProfile.objects.create(user=user, languages=list(languages))
        profile.clinics.set(clinics)
    return user


def signed_in(user, *, second_factor=True, identity_confirmed=True, client=None):
    """A client signed in as ``user``, its second factor confirmed (and identity just confirmed)."""
    client = client or Client()
    client.force_login(user)
    if second_factor:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="phone", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        if identity_confirmed:
            session[sessions.CONFIRMED_AT] = time.time()
        session.save()
    return client
