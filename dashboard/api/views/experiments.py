"""GET experiments/assignment: which variant of each running experiment a shopper (or guest session) is in."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from dashboard.api.base import ApiView
from dashboard.api.schema import AUTH_PROBLEMS, problem_responses
from dashboard.models import Scope
from dashboard.services.experiments.assignment import assignments_for

EXAMPLE = {
    "shopper": "17850", "session": "",
    "assignments": [
        {"experiment": "home-ease-vs-mf", "surface": "recommendations", "variant": "home-ease-vs-mf:B",
         "variant_name": "B", "is_control": False, "fusion_config": "More EASE", "model_version": 7,
         "search_settings": ""},
        {"experiment": "search-synonyms", "surface": "search", "variant": None, "variant_name": None,
         "is_control": None, "fusion_config": "", "model_version": None, "search_settings": ""},
    ],
}


class AssignmentParams(serializers.Serializer):
    shopper = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="The shopper's id in your store.")
    session = serializers.CharField(required=False, default="", max_length=200,
                                    help_text="A guest's session id (used when no shopper is given).")

    def validate(self, attrs: dict) -> dict:
        if not attrs["shopper"] and not attrs["session"]:
            raise serializers.ValidationError({"shopper": ["give shopper=<id> (or session=<id> for a guest)"]})
        return attrs


class AssignmentSerializer(serializers.Serializer):
    experiment = serializers.CharField(help_text="The experiment's key.")
    surface = serializers.CharField()
    variant = serializers.CharField(allow_null=True,
                                    help_text="As in served lists' `variant`; null: in the hold-out (defaults).")
    variant_name = serializers.CharField(allow_null=True)
    is_control = serializers.BooleanField(allow_null=True)
    fusion_config = serializers.CharField(allow_blank=True)
    model_version = serializers.IntegerField(allow_null=True)
    search_settings = serializers.CharField(allow_blank=True)


class AssignmentsSerializer(serializers.Serializer):
    shopper = serializers.CharField(allow_blank=True)
    session = serializers.CharField(allow_blank=True)
    assignments = AssignmentSerializer(many=True)


class AssignmentView(ApiView):
    required_scope = Scope.RECOMMENDATIONS_READ

    @extend_schema(tags=["experiments"], summary="A shopper's variant in every running experiment",
                   description="The split is a deterministic hash of the experiment's salt and the shopper id "
                               "(or the session id), so the answer is the same from every server and never "
                               "changes while an experiment runs. Served lists name the same variant in their "
                               "`variant` field.",
                   parameters=[AssignmentParams],
                   responses={200: AssignmentsSerializer, **problem_responses(400, *AUTH_PROBLEMS)},
                   examples=[OpenApiExample("a shopper in two experiments", value=EXAMPLE, response_only=True)])
    def get(self, request: Request, slug: str) -> Response:
        catalog = self.catalog(request, slug)
        params = AssignmentParams(data=request.query_params)
        params.is_valid(raise_exception=True)
        data = params.validated_data
        return Response({"shopper": data["shopper"], "session": data["session"] if not data["shopper"] else "",
                         "assignments": assignments_for(catalog, shopper=data["shopper"], session=data["session"])})
