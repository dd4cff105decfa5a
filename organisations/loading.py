"""Loading rows into model instances without Model.__init__ (issue #7).

Django builds every instance it reads through `Model.from_db()`, which calls `Model.__init__` with a value — or a
DEFERRED marker — for every concrete field and sends the `pre_init` and `post_init` signals. For a page of 50
plans with the names of four related objects each that is ~250 instances and ~500 signal sends per request.
`from_db` is Django's documented hook for customising loading; `FastLoading.from_db` builds the same instance
directly: the loaded attributes in the instance's `__dict__` (deferred ones absent, as `__init__` leaves them) and a
`_state` marking it as loaded from `db`, and `post_init` sent as `__init__` sends it; it also keeps what was read,
for `loaded_value()`. Where anything listens to
`pre_init` (whose receivers get `__init__`'s arguments) it defers to Django's own path
(tests/organisations/test_loading.py compares both).
"""

from __future__ import annotations

from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

LOADED = "_db_loaded"


def loaded_value(instance, attname: str, default):
    """The value `attname` was read with from the database, or `default` when unknown: the instance was not read
    by FastLoading.from_db (made in Python, or read by Django's own path), or the field was deferred. A receiver
    that needs the loaded values (to tell on save whether a field changed) reads them here, at save time, instead
    of remembering them in a post_init receiver on every load — a signal sent for each of a list page's rows."""
    names, values = instance.__dict__.get(LOADED, ((), ()))
    try:
        return values[names.index(attname)]
    except ValueError:
        return default


class FastLoading:
    """Mixin for models read on hot paths; put it before `models.Model` in the bases."""

    @classmethod
    def from_db(cls, db, field_names, values):
        if pre_init.has_listeners(cls):  # it is given __init__'s arguments: only __init__ can send it
            return super().from_db(db, field_names, values)
        new = cls.__new__(cls)
        # Attribute names straight into __dict__: the setter of a foreign key's id (the only data descriptor on
        # these attributes) would only clear a related-object cache a new instance does not have.
        new.__dict__.update(zip(field_names, values, strict=True))
        new.__dict__[LOADED] = (field_names, values)  # what was read, for loaded_value(); the row's own objects
        state = new._state = ModelState()
        if post_init.has_listeners(cls):  # sent where __init__ sends it: before from_db marks the instance loaded
            post_init.send(sender=cls, instance=new)
        state.adding = False
        state.db = db
        return new
