from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from clinics.models import Clinic
from staff.models import CoordinatorProfile
from staff.roles import COORDINATOR, COORDINATOR_LEAD


class Command(BaseCommand):
    help = (
        "Create (or update) a coordinator with a profile: the languages they answer and, optionally, "
        "the clinics they are limited to. They enrol their authenticator app at their first sign-in."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password", help="Initial password (else the command asks for one). Use a long one."
        )
        parser.add_argument(
            "--languages", default="", help="Comma-separated language codes, e.g. ru,mn (default: none)"
        )
        parser.add_argument("--clinics", default="", help="Comma-separated clinic slugs to limit them to")
        parser.add_argument(
            "--lead", action="store_true", help="A coordinator lead (assigns, exports, erases)"
        )

    @transaction.atomic
    def handle(self, *args, username, email, password, languages, clinics, lead, **options):
        known_languages = {code for code, _name in settings.LANGUAGES}
        languages = [code for code in languages.split(",") if code]
        if unknown := set(languages) - known_languages:
            raise CommandError(f"Unknown language codes: {', '.join(sorted(unknown))}")
        slugs = [slug for slug in clinics.split(",") if slug]
        limited_to = list(Clinic.objects.filter(slug__in=slugs))
        if missing := set(slugs) - {clinic.slug for clinic in limited_to}:
            raise CommandError(f"Unknown clinics: {', '.join(sorted(missing))}")
        if password is None:
            from getpass import getpass

            password = getpass("Password: ")
        from django.contrib.auth.password_validation import validate_password

        user_model = get_user_model()
        user = user_model.objects.filter(username=username).first() or user_model(username=username)
        try:
            validate_password(password, user)
        except Exception as error:
            raise CommandError(" ".join(getattr(error, "messages", [str(error)]))) from error
        user.email = email
        user.is_staff = True
        user.is_active = True
        user.set_password(password)
        user.save()
        user.groups.set(Group.objects.filter(name=COORDINATOR_LEAD if lead else COORDINATOR))
        profile, _created = CoordinatorProfile.objects.get_or_create(user=user)
        profile.languages = languages
        profile.save()
        profile.clinics.set(limited_to)
        role = "coordinator lead" if lead else "coordinator"
        scope = ", ".join(clinic.slug for clinic in limited_to) or "every clinic"
        self.stdout.write(self.style.SUCCESS(f"{username}: {role}, languages {languages or '-'}, {scope}."))
