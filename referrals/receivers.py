from django.dispatch import receiver
from django.utils import timezone

from inquiries.signals import inquiry_erasing
from referrals.models import ClinicAnswer, Referral


@receiver(inquiry_erasing, dispatch_uid="referrals_inquiry_erasing")
def erase_what_clinics_were_told(sender, instance, **kwargs):
    """An erased inquiry's clinic links stop working, and the free texts about the patient go: the
    coordinator's note to the clinic and the clinic's plan and notes. What remains (which clinic, can
    treat, dates, prices) says nothing about who the patient was."""
    referrals = Referral.objects.filter(inquiry=instance)
    referrals.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    referrals.update(note_to_clinic="")
    ClinicAnswer.objects.filter(referral__inquiry=instance).update(plan="", included="", coordinator_note="")
