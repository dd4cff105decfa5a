"""The forum's work: meetings, agenda, decisions, measures and the before/after comparison.

Related objects a client may name (a meeting, a report, a measure, a decision) are looked up within the forum
in the serializer's context only, so an id from another forum is simply "not found"."""

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from avvikelser import forum_services
from avvikelser.models import AgendaItem, Category, Decision, Deviation, ForumMeeting, Measure
from organisations.models import Membership, Organisation, User


def _forum_id(serializer):
    forum = serializer.context.get("forum")
    return forum.pk if forum is not None else None


class ForumMeetingSerializer(StrictModelSerializer):
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    item_count = serializers.SerializerMethodField()

    class Meta:
        model = ForumMeeting
        fields = ["id", "forum", "starts_at", "location", "status", "status_display", "minutes", "item_count",
                  "version", "created_at", "updated_at"]
        read_only_fields = ["id", "forum", "status_display", "item_count", "version", "created_at", "updated_at"]

    def get_item_count(self, meeting) -> int:
        count = getattr(meeting, "item_count", None)
        return meeting.items.count() if count is None else count


class AgendaItemSerializer(StrictModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = AgendaItem
        fields = ["id", "meeting", "order", "kind", "kind_display", "title", "deviation", "measure", "fingerprint",
                  "note", "version"]
        read_only_fields = ["id", "meeting", "order", "kind_display", "version"]

    def get_fields(self):
        fields = super().get_fields()
        forum_id = _forum_id(self)
        fields["deviation"].queryset = forum_services.reports_of(forum_id) if forum_id else Deviation.objects.none()
        fields["measure"].queryset = Measure.objects.filter(decision__forum_id=forum_id).select_related("decision")
        return fields


class AgendaReorderSerializer(StrictSerializer):
    items = serializers.ListField(child=serializers.IntegerField(min_value=1), allow_empty=True,
                                  help_text=_("Varje punkt på dagordningen, en gång, i den nya ordningen."))


class DecisionSerializer(StrictModelSerializer):
    fingerprints = serializers.ListField(child=serializers.CharField(max_length=255), required=False,
                                         help_text=_('Mönstrens fingeravtryck, t.ex. "v1:sip:12>34:*".'))
    deviations = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Deviation.objects.none())
    measure_count = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = ["id", "forum", "meeting", "text", "decided_on", "fingerprints", "deviations", "measure_count",
                  "version", "created_at", "updated_at"]
        read_only_fields = ["id", "forum", "measure_count", "version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        forum_id = _forum_id(self)
        fields["meeting"].queryset = ForumMeeting.objects.filter(forum_id=forum_id)
        fields["deviations"].child_relation.queryset = (forum_services.reports_of(forum_id) if forum_id
                                                        else Deviation.objects.none())
        return fields

    def get_measure_count(self, decision) -> int:
        count = getattr(decision, "measure_count", None)
        return decision.measures.count() if count is None else count


class MeasureSerializer(StrictModelSerializer):
    """A measure with its owner, due date and status; `decision` is set on create and never changes."""

    owner_organisation_name = serializers.CharField(source="owner_organisation.name", read_only=True)
    responsible_user_name = serializers.CharField(source="responsible_user.get_full_name", read_only=True,
                                                  default=None, allow_null=True)
    category_name = serializers.CharField(source="category.name", read_only=True, default=None, allow_null=True)
    from_organisation_name = serializers.CharField(source="from_organisation.name", read_only=True,
                                                   default=None, allow_null=True)
    to_organisation_name = serializers.CharField(source="to_organisation.name", read_only=True,
                                                 default=None, allow_null=True)
    decided_on = serializers.DateField(source="decision.decided_on", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    overdue = serializers.SerializerMethodField()

    class Meta:
        model = Measure
        fields = ["id", "decision", "decided_on", "title", "owner_organisation", "owner_organisation_name",
                  "responsible_user", "responsible_user_name", "due_on", "status", "status_display", "overdue",
                  "status_changed_at", "category", "category_name", "from_organisation", "from_organisation_name",
                  "to_organisation", "to_organisation_name", "version", "created_at", "updated_at"]
        read_only_fields = ["id", "decided_on", "owner_organisation_name", "responsible_user_name",
                            "status_display", "overdue", "status_changed_at", "category_name",
                            "from_organisation_name", "to_organisation_name", "version", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        forum_id = _forum_id(self)
        fields["decision"].queryset = Decision.objects.filter(forum_id=forum_id)
        for name in ("owner_organisation", "from_organisation", "to_organisation"):
            fields[name].queryset = Organisation.objects.all()
        staff = Membership.objects.filter(user_id=OuterRef("pk"), active=True,
                                          unit__organisation__forums__id=forum_id)
        fields["responsible_user"].queryset = User.objects.filter(Exists(staff))
        fields["category"].queryset = Category.objects.all()
        return fields

    def get_overdue(self, measure) -> bool:
        return forum_services.is_overdue(measure)


class AgendaSerializer(serializers.Serializer):
    """A meeting's agenda in order, and the status of the measures decided before the meeting."""

    meeting = serializers.IntegerField(source="meeting.pk")
    version = serializers.IntegerField(source="meeting.version", help_text=_("Mötets version (ETag)."))
    items = AgendaItemSerializer(many=True)
    earlier_measures = MeasureSerializer(many=True)


class AgendaProposalSerializer(AgendaSerializer):
    added = serializers.ListField(child=serializers.IntegerField(),
                                  help_text=_("Id för punkterna som just lades till."))
    signals_available = serializers.BooleanField(
        help_text=_("Falskt när mönsteranalysen inte är tillgänglig: inga signalpunkter föreslogs."))


class BeforeAfterWindowSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField(help_text=_("Till och med."))
    count = serializers.IntegerField()


class BeforeAfterSerializer(serializers.Serializer):
    """Deviations of the measure's category and pair in equal windows before and after the decision date,
    compared with an exact conditional binomial test of two Poisson rates (two-sided, α = 0.05)."""

    measure_id = serializers.IntegerField()
    decided_on = serializers.DateField()
    window_days = serializers.IntegerField()
    before = BeforeAfterWindowSerializer()
    after = BeforeAfterWindowSerializer()
    rate_before = serializers.FloatField(help_text=_("Avvikelser per 30 dagar."))
    rate_after = serializers.FloatField(help_text=_("Avvikelser per 30 dagar."))
    rate_change = serializers.FloatField(allow_null=True, help_text=_("(efter − före) / före."))
    p_value = serializers.FloatField()
    alpha = serializers.FloatField()
    verdict = serializers.ChoiceField(choices=[("minskat", "minskat"), ("oförändrat", "oförändrat"),
                                               ("ökat", "ökat")])
    too_early = serializers.BooleanField(help_text=_("Perioden efter är kortare än 30 dagar."))
    category_ids = serializers.ListField(child=serializers.IntegerField())
    from_organisation_id = serializers.IntegerField(allow_null=True)
    to_organisation_id = serializers.IntegerField(allow_null=True)


class BeforeAfterQuerySerializer(StrictSerializer):
    window_days = serializers.IntegerField(required=False, min_value=1,
                                           max_value=forum_services.BEFORE_AFTER_MAX_DAYS)
