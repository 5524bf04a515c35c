import datetime

import factory
from django.utils import timezone

from cases.models import CaseNote, Channel, NoteTemplate, NoteType, Tag
from tests.cases.factories import CaseFactory
from tests.organisation.factories import UserFactory


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Thema {n}")
    active = True


class NoteTemplateFactory(factory.django.DjangoModelFactory):
    """Replaces the starter template of the type (migration 0005) so tests know the checklist."""

    class Meta:
        model = NoteTemplate

    note_type = NoteType.CONVERSATION
    body = "Anlass:\n\nVereinbarungen:\n"
    checklist = factory.LazyFunction(
        lambda: [
            {"key": "concern", "label": "Anliegen festgehalten", "required": True},
            {"key": "next_steps", "label": "Nächste Schritte festgehalten", "required": True},
            {"key": "plan_discussed", "label": "Kooperationsplan besprochen", "required": False},
        ]
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        note_type = kwargs.pop("note_type")
        template, _created = model_class.objects.update_or_create(
            note_type=note_type, defaults=kwargs
        )
        return template


class CaseNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseNote
        skip_postgeneration_save = True

    case = factory.SubFactory(CaseFactory)
    author = factory.SubFactory(UserFactory)
    note_type = NoteType.CONVERSATION
    channel = Channel.IN_PERSON
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=1))
    text = "Gespräch über die Bewerbungsstrategie."
    checklist = factory.LazyFunction(dict)

    @factory.post_generation
    def tags(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.tags.set(extracted)
