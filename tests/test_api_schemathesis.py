"""Schemathesis over every operation of the schema, against a live server, signed in as a project's manager.

Each operation is its own test (`-k "POST /api/projects/"` runs one), bounded by a few examples each. Checked: no
5xx, every status code and Content-Type documented, bodies and headers matching the schema, and invalid input
rejected with a 4xx. Valid-looking input may still be refused (a label config is XML the schema cannot describe),
so `positive_data_acceptance` is not among the checks.

Run alone: pytest tests/test_api_schemathesis.py -m schemathesis (set SCHEMATHESIS_MAX_EXAMPLES to fuzz longer).
"""
import os

import hypothesis
import pytest
import schemathesis
from drf_spectacular.generators import SchemaGenerator
from schemathesis.specs.openapi import checks as openapi_checks
from schemathesis import GenerationMode, checks as core_checks
from schemathesis.core.parameters import ParameterLocation

from .live_api import live_world  # noqa: F401 (a fixture)

pytestmark = pytest.mark.schemathesis

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
CHECKS = [
    core_checks.not_a_server_error,
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
    openapi_checks.negative_data_rejection,
]

CONFIG = schemathesis.Config.from_dict({
    # Unknown query parameters are ignored by design (clients add cache busters), so none are generated.
    "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none", "allow-extra-parameters": False},
    "phases": {"coverage": {"enabled": os.environ.get("SCHEMATHESIS_COVERAGE") == "1"}, "stateful": {"enabled": False}},
})
# The schema the server serves at /api/schema/ (test_the_live_schema_is_the_generated_one proves they are one).
API_SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(API_SCHEMA, config=CONFIG)


def test_the_live_schema_is_the_generated_one(live_world):
    import requests

    served = requests.get(f"{live_world.base_url}/api/schema/", params={"format": "json"}, timeout=30)

    assert served.status_code == 200
    assert served.json()["paths"].keys() == API_SCHEMA["paths"].keys()


def wants_a_real_id(value) -> bool:
    """Mostly the manager's real objects, so operations get past their 404; every fourth generated id stays."""
    number = int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value
    return isinstance(number, int) and not isinstance(number, bool) and number % 4 != 0


@schema.parametrize()
@hypothesis.settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_as_documented(case, live_world):
    path_mode = case.meta.components.get(ParameterLocation.PATH) if case.meta else None
    if path_mode is None or path_mode.mode == GenerationMode.POSITIVE:
        for name, value in (case.path_parameters or {}).items():
            if wants_a_real_id(value):
                case.path_parameters[name] = live_world.id_for(case.path, name)
    case.call_and_validate(base_url=live_world.base_url, headers=live_world.headers, checks=CHECKS, timeout=30)
