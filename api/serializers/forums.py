"""The forum (styrgrupp): the forum itself, the parameters of its pattern view and drill-down, and the shape of
the pattern view (documentation for the schema; the view returns avvikelser.patterns' dict as it is)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers.base import StrictModelSerializer, StrictSerializer
from avvikelser.models import Agreement, Forum, ForumRole
from avvikelser.patterns import DEFAULT_GRANULARITY, DEFAULT_TOP_THEMES, GRANULARITIES
from organisations.models import Organisation


class ForumOrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "active"]
        read_only_fields = fields


class ForumAgreementSerializer(serializers.ModelSerializer):
    class Meta:
        model = Agreement
        fields = ["id", "name", "active"]
        read_only_fields = fields


class ForumSerializer(StrictModelSerializer):
    organisations = ForumOrganisationSerializer(many=True, read_only=True)
    agreements = ForumAgreementSerializer(many=True, read_only=True)
    role = serializers.ChoiceField(source="my_role", choices=ForumRole.choices, read_only=True,
                                   help_text=_("Din roll i forumet."))

    class Meta:
        model = Forum
        fields = ["id", "name", "role", "organisations", "agreements", "acknowledge_working_days", "answer_days"]
        read_only_fields = fields


def _check_period(attrs):
    start, end = attrs.get("period_start"), attrs.get("period_end")
    if start and end and end < start:
        raise serializers.ValidationError({"period_end": _("Periodens slut ligger före dess början.")})
    return attrs


class PatternQuerySerializer(StrictSerializer):
    period_start = serializers.DateField(required=False, help_text=_(
        "Första dag (ÅÅÅÅ-MM-DD), utvidgad till periodens början. Utan: tre år bakåt (två år för veckor)."))
    period_end = serializers.DateField(required=False, help_text=_(
        "Sista dag (ÅÅÅÅ-MM-DD), utvidgad till periodens slut. Utan: i dag."))
    granularity = serializers.ChoiceField(choices=GRANULARITIES, required=False, default=DEFAULT_GRANULARITY)
    top = serializers.IntegerField(required=False, default=DEFAULT_TOP_THEMES, min_value=1, max_value=100,
                                   help_text=_("Antal återkommande teman."))

    def validate(self, attrs):
        return _check_period(attrs)


class ForumReportQuerySerializer(StrictSerializer):
    """The drill-down: the `drilldown` parameters of any number of the pattern view."""

    category = serializers.IntegerField(required=False, min_value=1, help_text=_(
        "Kategorin med alla kategorier som slagits ihop med den."))
    reporting_organisation = serializers.IntegerField(required=False, min_value=1)
    counterpart_organisation = serializers.IntegerField(required=False, min_value=1)
    agreement = serializers.IntegerField(required=False, min_value=1)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    theme = serializers.CharField(required=False, max_length=300, help_text=_(
        "Ett mönsters eller temas fingeravtryck, v1:<kategori>:<från>><till>:<överenskommelse eller *>."))

    def validate(self, attrs):
        return _check_period(attrs)


# --- the pattern view's shape (schema only) ------------------------------------------------------------------------

class PatternOrganisationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    active = serializers.BooleanField()


class PatternCategorySerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text=_("Kategorins nuvarande rot (efterträdaren vid sammanslagning)."))
    key = serializers.CharField()
    name = serializers.CharField()
    retired = serializers.BooleanField()


class PatternDrilldownSerializer(serializers.Serializer):
    """Query parameters for GET /api/v1/forums/{id}/reports/ that list exactly the reports behind the number."""

    category = serializers.IntegerField(required=False)
    reporting_organisation = serializers.IntegerField(required=False)
    counterpart_organisation = serializers.IntegerField(required=False)
    period_start = serializers.DateField(required=False)
    period_end = serializers.DateField(required=False)
    theme = serializers.CharField(required=False)


class PatternForumSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PatternSpanSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class PatternPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    complete = serializers.BooleanField(help_text=_("Perioden är slut (ligger före i dag)."))
    count = serializers.IntegerField()
    active_sips = serializers.IntegerField(help_text=_("Aktiva SIP:ar som leds av forumets organisationer."))
    rate = serializers.FloatField(allow_null=True, help_text=_("Avvikelser per 100 aktiva SIP:ar."))
    drilldown = PatternDrilldownSerializer()


class PatternCategoryTotalSerializer(serializers.Serializer):
    category = PatternCategorySerializer()
    total = serializers.IntegerField()
    counts = serializers.ListField(child=serializers.IntegerField())
    drilldown = PatternDrilldownSerializer()


class PatternDirectionTotalSerializer(serializers.Serializer):
    reporting_organisation = PatternOrganisationSerializer()
    counterpart_organisation = PatternOrganisationSerializer()
    total = serializers.IntegerField()
    counts = serializers.ListField(child=serializers.IntegerField())
    active_sips = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    rates = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True)
    drilldown = PatternDrilldownSerializer()


class PatternChartPointSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    period = serializers.DateField()
    rules = serializers.ListField(child=serializers.CharField())


class PatternChartSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["c", "u"])
    centre = serializers.FloatField()
    upper = serializers.JSONField(help_text=_("c: ett tal; u: ett per period."))
    lower = serializers.JSONField(help_text=_("c: ett tal; u: ett per period."))
    rules = PatternChartPointSerializer(many=True, help_text=_(
        "Styrdiagrammets regler (outside, run8, trend6) per punkt, som diagrammet ritas."))


class PatternSignalSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    period = serializers.DateField()
    rules = serializers.ListField(child=serializers.CharField())
    value = serializers.FloatField()
    expected = serializers.FloatField()
    p_value = serializers.FloatField(allow_null=True)


class PatternSeriesSerializer(serializers.Serializer):
    fingerprint = serializers.CharField(help_text=_(
        "Mönstret: v1:<kategorins rot>:<från>><till>:* (kategori och riktning, oavsett överenskommelse)."))
    label = serializers.CharField()
    category = PatternCategorySerializer()
    reporting_organisation = PatternOrganisationSerializer()
    counterpart_organisation = PatternOrganisationSerializer()
    total = serializers.IntegerField()
    counts = serializers.ListField(child=serializers.IntegerField())
    active_sips = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    rates = serializers.ListField(child=serializers.FloatField(allow_null=True), allow_null=True)
    chart = PatternChartSerializer()
    signals = PatternSignalSerializer(many=True)
    flagged = serializers.BooleanField()
    outside = serializers.BooleanField()
    min_p_value = serializers.FloatField(allow_null=True)
    drilldown = PatternDrilldownSerializer()


class PatternAgreementSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PatternThemeSerializer(serializers.Serializer):
    fingerprint = serializers.CharField(help_text=_(
        "v1:<kategorins rot>:<från>><till>:<överenskommelsens id | other-<text> | none>."))
    label = serializers.CharField()
    category = PatternCategorySerializer()
    reporting_organisation = PatternOrganisationSerializer()
    counterpart_organisation = PatternOrganisationSerializer()
    agreement = PatternAgreementSerializer(allow_null=True)
    agreement_other = serializers.CharField(allow_null=True)
    count = serializers.IntegerField()
    first_occurred_on = serializers.DateField()
    last_occurred_on = serializers.DateField()
    series_fingerprint = serializers.CharField()
    drilldown = PatternDrilldownSerializer()


class PatternMethodSerializer(serializers.Serializer):
    signals = serializers.CharField()
    min_baseline = serializers.IntegerField()
    season_length = serializers.IntegerField(allow_null=True)
    fingerprint_version = serializers.CharField()
    denominator = serializers.CharField()
    cell_drilldown = serializers.CharField()


class PatternsSerializer(serializers.Serializer):
    forum = PatternForumSerializer()
    granularity = serializers.ChoiceField(choices=GRANULARITIES)
    period = PatternSpanSerializer()
    total = serializers.IntegerField()
    drilldown = PatternDrilldownSerializer()
    periods = PatternPeriodSerializer(many=True)
    categories = PatternCategoryTotalSerializer(many=True)
    directions = PatternDirectionTotalSerializer(many=True)
    series = PatternSeriesSerializer(many=True)
    flagged_series = serializers.IntegerField()
    themes = PatternThemeSerializer(many=True)
    method = PatternMethodSerializer()
