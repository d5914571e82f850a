"""Timestamps in a staff session: when it started, when it was last used, when identity was confirmed."""

import time

from django.conf import settings

STARTED_AT = "staff_session_started_at"
LAST_SEEN_AT = "staff_session_last_seen_at"
CONFIRMED_AT = "staff_identity_confirmed_at"


def start(request):
    now = time.time()
    request.session[STARTED_AT] = now
    request.session[LAST_SEEN_AT] = now


FAILED_CONFIRMATIONS = "staff_identity_failed_confirmations"


def confirm_identity(request):
    request.session[CONFIRMED_AT] = time.time()
    request.session.pop(FAILED_CONFIRMATIONS, None)


def count_failed_confirmation(request):
    """One more wrong password or code on the confirmation page; returns how many so far."""
    failures = request.session.get(FAILED_CONFIRMATIONS, 0) + 1
    request.session[FAILED_CONFIRMATIONS] = failures
    return failures


def identity_recently_confirmed(request):
    confirmed = request.session.get(CONFIRMED_AT, 0)
    return time.time() - confirmed < settings.STAFF_RECONFIRM_MINUTES * 60


def expired(request):
    """Why the session is over ("idle" or "too long"), or None."""
    now = time.time()
    started = request.session.get(STARTED_AT)
    last_seen = request.session.get(LAST_SEEN_AT)
    if started is None or last_seen is None:
        return None
    if now - started > settings.STAFF_SESSION_MAX_HOURS * 3600:
        return "too long"
    if now - last_seen > settings.STAFF_SESSION_IDLE_MINUTES * 60:
        return "idle"
    return None


def touch(request):
    """Record activity, at most once a minute (each write saves the session)."""
    now = time.time()
    if now - request.session.get(LAST_SEEN_AT, 0) > 60:
        request.session[LAST_SEEN_AT] = now
