"""FastLoading.from_db (organisations/loading.py) builds the instances Django's own from_db builds."""

import pytest
from django.apps import apps
from django.db import models
from django.db.models.signals import post_init, pre_init

from organisations.loading import LOADED, FastLoading, loaded_value
from sip.models import Person, Sip
from tests.organisations.test_granted import new_plan

pytestmark = pytest.mark.django_db


def _django_from_db(model, db, names, values):
    return models.Model.from_db.__func__(model, db, names, values)


def _same(fast, slow):
    assert type(fast) is type(slow)
    assert {k: v for k, v in fast.__dict__.items() if k not in ("_state", LOADED)} == \
        {k: v for k, v in slow.__dict__.items() if k != "_state"}
    assert (fast._state.adding, fast._state.db) == (slow._state.adding, slow._state.db) == (False, "default")
    assert fast.get_deferred_fields() == slow.get_deferred_fields()


def test_every_fast_loading_model_loads_as_django_does(world):
    new_plan(world)
    fast_models = [m for m in apps.get_models() if issubclass(m, FastLoading)]
    assert {"Sip", "Person", "User", "Unit", "Organisation", "Deviation"} <= {m.__name__ for m in fast_models}
    for model in fast_models:
        for queryset in (model._default_manager.all(), model._default_manager.only("pk")):
            for obj in queryset[:3]:
                names = [f.attname for f in model._meta.concrete_fields if f.attname in obj.__dict__]
                values = [obj.__dict__[name] for name in names]
                _same(model.from_db("default", names, values), _django_from_db(model, "default", names, values))


def test_post_init_receivers_see_what_they_would_see(world):
    """A post_init receiver is still sent each instance, with its loaded attributes, before it is marked loaded."""
    sip = new_plan(world)
    seen = []

    def receiver(sender, instance, **_):
        seen.append((instance.__dict__.get("status"), instance.__dict__.get("reason", "deferred"),
                     instance._state.adding))

    post_init.connect(receiver, sender=Sip)
    try:
        loaded = Sip.objects.get(pk=sip.pk)
        deferred = Sip.objects.only("pk").get(pk=sip.pk)
    finally:
        post_init.disconnect(receiver, sender=Sip)
    assert seen == [(sip.status, sip.reason, True), (None, "deferred", True)]
    assert loaded._state.adding is False
    # Loaded instances save as updates, and deferred fields load on access.
    deferred.reason = "Ny"
    deferred.save(update_fields=["reason"])
    assert Sip.objects.get(pk=sip.pk).reason == "Ny" and deferred.status == sip.status


def test_loaded_values_are_what_was_read(world):
    """organisations.loading.loaded_value: the value read, whatever was set since; unknown for a deferred field
    or an instance made in Python (the delaktighet receivers read it at save time)."""
    sip = new_plan(world)
    loaded = Sip.objects.get(pk=sip.pk)
    before = loaded.lead_organisation_id
    loaded.lead_organisation_id = 10**9
    assert loaded_value(loaded, "lead_organisation_id", "?") == before
    assert loaded_value(Sip.objects.only("pk").get(pk=sip.pk), "lead_organisation_id", "?") == "?"
    assert loaded_value(Sip(lead_organisation_id=1), "lead_organisation_id", "?") == "?"
    person = Person.objects.get(pk=sip.person_id)
    assert (loaded_value(person, "gender", None), loaded_value(person, "birth_year", None)) == \
        (person.gender, person.birth_year)
    assert not post_init.has_listeners(Sip) and not post_init.has_listeners(Person)  # nothing runs per row read


def test_a_pre_init_receiver_gets_djangos_own_path(world):
    sip = new_plan(world)
    seen = []

    def receiver(sender, args, kwargs, **_):
        seen.append(len(args))

    pre_init.connect(receiver, sender=Sip)
    try:
        assert Sip.objects.get(pk=sip.pk).pk == sip.pk
    finally:
        pre_init.disconnect(receiver, sender=Sip)
    assert seen == [len(Sip._meta.concrete_fields)]
