"""Profiles that existed before versioning: starting need levels, and version 1 by the system."""

from django.db import migrations
from django.utils import timezone

BATCH = 2000
SNAPSHOT_EXCLUDE = ("id", "customer", "version", "updated_at")


def _levels(profile) -> dict[str, str]:
    # A frozen copy of profiling.models.derived_need_levels as it was when this migration was written.
    if profile.vocational == "none":
        qualification = "high" if profile.school in ("none", "lower") else "some"
    else:
        qualification = "none"
    months = profile.work_months_5y
    work_experience = "high" if months < 12 else "some" if months < 36 else "none"
    german = profile.german
    language = (
        "high" if german in ("A0", "A1", "A2") else "some" if german in ("B1", "B2") else "none"
    )
    return {
        "qualification_need": qualification,
        "work_experience_need": work_experience,
        "language_need": language,
    }


def record_existing(apps, schema_editor):
    Profile = apps.get_model("profiling", "Profile")
    ProfileVersion = apps.get_model("profiling", "ProfileVersion")
    names = [f.name for f in Profile._meta.local_fields if f.name not in SNAPSHOT_EXCLUDE]
    now = timezone.now()
    last_id = 0
    while True:
        batch = list(Profile.objects.filter(pk__gt=last_id, version=0).order_by("pk")[:BATCH])
        if not batch:
            return
        last_id = batch[-1].pk
        versions = []
        for profile in batch:
            for name, value in _levels(profile).items():
                setattr(profile, name, value)
            profile.version = 1
            versions.append(
                ProfileVersion(
                    customer_id=profile.customer_id,
                    version=1,
                    valid_from=profile.updated_at or now,
                    author=None,
                    snapshot={name: getattr(profile, name) for name in names},
                    changed_fields=names,
                )
            )
        Profile.objects.bulk_update(batch, [*_levels(batch[0]), "version"])
        ProfileVersion.objects.bulk_create(versions)


class Migration(migrations.Migration):
    dependencies = [("profiling", "0002_profile_dimensions_versions")]

    operations = [migrations.RunPython(record_existing, migrations.RunPython.noop)]
