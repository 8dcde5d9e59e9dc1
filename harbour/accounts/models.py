from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    OUTREACH = "outreach", "Peer outreach worker"
    STAFF = "staff", "Site staff"
    CLINICIAN = "clinician", "Clinician"
    CASE_MANAGER = "case_manager", "Case manager"
    SITE_MANAGER = "site_manager", "Site manager"
    ME_OFFICER = "me_officer", "M&E officer"
    ALERT_REVIEWER = "alert_reviewer", "Drug alert reviewer"
    ADMIN = "admin", "Administrator"


# Roles whose accounts can see much, change who can see what, or speak to the public
# (a false drug alert would be trusted): a stolen password alone must not be enough.
TWO_FACTOR_ROLES = frozenset({Role.SITE_MANAGER, Role.ME_OFFICER, Role.ALERT_REVIEWER, Role.ADMIN})


class User(AbstractUser):
    """A person who works in the programme. Clients are never users."""

    email = models.EmailField(blank=True)

    def roles(self) -> set[str]:
        return set(self.memberships.values_list("role", flat=True))

    @property
    def needs_two_factor(self) -> bool:
        return bool(self.roles() & TWO_FACTOR_ROLES)


class Membership(models.Model):
    """A role at a site (and every site below it); no site means the whole programme."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    site = models.ForeignKey(
        "sites.Site", null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "site"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        where = self.site.code if self.site else "whole programme"
        return f"{self.user} · {self.get_role_display()} · {where}"
