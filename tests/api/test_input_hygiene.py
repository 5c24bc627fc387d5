"""Hostile input gets a clear 4xx and changes nothing: never a 5xx, never a silent coercion
(docs/architecture.md §8.1). Every case goes through the deployed entry point,
`handlers.api.handler`, with API Gateway events."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from domain import batch_actions
from domain.errors import InvalidRequestError
from domain.onboarding import ExecutionConfigInput, submit_step5
from handlers import wiring
from handlers.api import MAX_BODY_DEPTH, handler
from local.lambdas import FakeLambdaContext
from local.runtime import BUCKET_ID
from local.samples import config_data, restaurant_data
from tests.api.conftest import ORG, Api, Reply, job_password_refs

pytestmark = pytest.mark.integration

EVENTS = Path(__file__).resolve().parents[2] / "events"


# ---------------------------------------------------------------------- helpers


def _create(api: Api, restaurant: dict[str, Any], name: str = "Hygiene") -> Reply:
    return api.client.post("/registration-batches", {"name": name, "restaurants": [restaurant]})


def _assert_nothing_created(api: Api) -> None:
    """No batch stored, no run started, nothing generated into the artifacts bucket."""
    assert api.client.get("/registration-batches").body["batches"] == []
    assert api.executions() == []
    assert boto3.client("s3").list_objects_v2(Bucket=BUCKET_ID.lower()).get("KeyCount") == 0


def _assert_422(reply: Reply, field: str) -> None:
    assert reply.status == 422, reply
    assert reply.body["error"] == "validation_error"
    assert field in [f["field"] for f in reply.body["fields"]], reply
    assert field in reply.body["message"]


def _restaurant_with(path: str, value: Any) -> dict[str, Any]:
    """The sample restaurant with the dotted `path` (list indexes as numbers) set to `value`."""
    data = restaurant_data("Cafe Aroha")
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


def _raw_event(path: str, body: str, *, base64_encoded: bool = False) -> dict[str, Any]:
    """A sample API Gateway event (events/api-create-batch.json) with this path and raw body."""
    event: dict[str, Any] = copy.deepcopy(
        json.loads((EVENTS / "api-create-batch.json").read_text(encoding="utf-8"))
    )
    event["path"] = path
    event["requestContext"]["authorizer"]["claims"]["custom:org_id"] = ORG
    event["body"] = body
    event["isBase64Encoded"] = base64_encoded
    return event


def _post_raw(path: str, body: str, *, base64_encoded: bool = False) -> Reply:
    result = handler(
        _raw_event(path, body, base64_encoded=base64_encoded),
        FakeLambdaContext(function_name="ApiFunction"),
    )
    headers = dict(result.get("headers") or {})
    return Reply(result["statusCode"], json.loads(result["body"]), headers)


def _job_untouched(api: Api, job_id: str, before: dict[str, Any]) -> None:
    assert api.job_item(job_id) == before
    assert api.executions(job_id) == []


# ---------------------------------------------------------------------- 1. strict types


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("menu.categories.0.items.0.price", "5", id="price-string"),
        pytest.param("menu.categories.0.items.0.price", True, id="price-true"),
        pytest.param(
            "menu.categories.0.items.0.option_sets.0.options.0.price", "0.8", id="option-price"
        ),
        pytest.param("menu.categories.0.items.0.option_sets.0.required", "yes", id="required-yes"),
        pytest.param("menu.categories.0.items.0.option_sets.0.multi_select", 1, id="flag-one"),
        pytest.param("company.number", 1234567, id="number-for-text"),
        pytest.param("menu.categories.0.items.0.price", 10**4000, id="huge-integer"),
    ],
)
def test_create_batch_refuses_a_value_of_the_wrong_json_type(
    api: Api, path: str, value: Any
) -> None:
    # given a restaurant with one value of the wrong JSON type
    reply = _create(api, _restaurant_with(path, value))
    # then it is refused naming the field, never coerced, and nothing is created
    _assert_422(reply, f"restaurants.0.{path}")
    _assert_nothing_created(api)


def test_json_numbers_are_still_prices_integer_or_not(api: Api) -> None:
    # given prices as a JSON integer and a JSON fraction
    data = _restaurant_with("menu.categories.0.items.0.price", 5)
    data["menu"]["categories"][0]["items"][1]["price"] = 4.5
    # when the batch is created, then both are stored as the numbers they are
    reply = _create(api, data)
    assert reply.status == 201, reply
    job = api.client.job(reply.body["jobs"][0]["job_id"])
    items = job["restaurant"]["menu"]["categories"][0]["items"]
    assert [item["price"] for item in items] == [5, 4.5]


STRICT_CONFIGS = [
    pytest.param(("account", "registerNewUser"), "yes", id="register-yes"),
    pytest.param(("account", "registerNewUser"), 1, id="register-one"),
    pytest.param(("steps_enabled", "menuImport"), "off", id="step-off"),
    pytest.param(("steps_enabled", "menuImport"), 0, id="step-zero"),
    pytest.param(("menu", "uploadImages"), "true", id="upload-string"),
    pytest.param(("onboarding", "createOnboardingUser"), 1, id="onboarding-one"),
    pytest.param(("menu", "selectedMenuId"), 1, id="menu-id-number"),
]


@pytest.mark.parametrize(("where", "value"), STRICT_CONFIGS)
def test_step5_refuses_a_value_of_the_wrong_json_type(
    api: Api, where: tuple[str, str], value: Any
) -> None:
    # given a job waiting at Step 5
    job = api.waiting_job()
    # when its config holds a value of the wrong JSON type
    job.config[where[0]][where[1]] = value
    reply = api.client.submit_config(job.batch_id, job.job_id, job.config)
    # then it is refused naming the field, and the job, runs and secrets are unchanged
    _assert_422(reply, f"jobs.0.execution_config.{where[0]}.{where[1]}")
    _job_untouched(api, job.job_id, job.item)
    assert job_password_refs() == {}


# ---------------------------------------------------------------------- 2. text

HOSTILE_TEXT = [
    pytest.param("Cafe\x00Aroha", id="nul"),
    pytest.param("Cafe \x1b[31mAroha", id="esc"),
    pytest.param("Cafe\x7f", id="del"),
    pytest.param("Cafe\x85Aroha", id="c1-nel"),
    pytest.param("Cafe\nAroha", id="newline"),
    pytest.param("Cafe\tAroha", id="tab"),
    pytest.param("Cafe \u202egnp.exe", id="rlo-override"),
    pytest.param("Cafe \u2066Aroha\u2069", id="isolate"),
    pytest.param("Cafe\u2028Aroha", id="line-separator"),
    pytest.param("   ", id="blank"),
    pytest.param("", id="empty"),
]

TEXT_FIELDS = [
    "name",
    "company.name",
    "phone",
    "branding.font",
    "menu.menu_id",
    "menu.categories.0.name",
    "menu.categories.0.items.0.name",
    "menu.categories.0.items.0.tags.0",
    "menu.categories.0.items.0.option_sets.0.name",
    "menu.categories.0.items.0.option_sets.0.options.0.name",
]


@pytest.mark.parametrize("text", HOSTILE_TEXT)
def test_a_hostile_restaurant_name_is_refused_before_anything_is_stored_or_generated(
    api: Api, text: str
) -> None:
    # given a restaurant whose name (copied into the generated website files) is hostile
    reply = _create(api, restaurant_data(text))
    # then the batch is refused naming the field, and no job, run or file exists
    _assert_422(reply, "restaurants.0.name")
    _assert_nothing_created(api)


@pytest.mark.parametrize("path", TEXT_FIELDS)
def test_every_text_field_refuses_control_and_bidi_characters(api: Api, path: str) -> None:
    for text in ("bad\x1bvalue", "bad\u202evalue", " \t "):
        _assert_422(_create(api, _restaurant_with(path, text)), f"restaurants.0.{path}")
    _assert_nothing_created(api)


@pytest.mark.parametrize("text", ["Night\x1b[2J batch", "   ", "\u202eNovember"])
def test_a_hostile_batch_name_is_refused(api: Api, text: str) -> None:
    _assert_422(_create(api, restaurant_data("Cafe Aroha"), name=text), "name")
    _assert_nothing_created(api)


def test_a_description_may_be_empty_but_not_blank_nor_hold_controls(api: Api) -> None:
    path = "menu.categories.0.items.0.description"
    for text in ("   ", "Smooth.\x00", "Smooth.\nStrong."):
        _assert_422(_create(api, _restaurant_with(path, text)), f"restaurants.0.{path}")
    _assert_nothing_created(api)
    assert _create(api, _restaurant_with(path, "")).status == 201


def test_names_in_any_script_with_bidi_marks_are_stored_as_given(api: Api) -> None:
    # U+200F (right-to-left mark) has no scope: allowed, unlike overrides and isolates
    name = "Café \u05de\u05e1\u05e2\u05d3\u05d4\u200f 寿司 👩\u200d🍳"
    reply = _create(api, _restaurant_with("name", name))
    assert reply.status == 201, reply
    assert api.client.job(reply.body["jobs"][0]["job_id"])["restaurant"]["name"] == name


# ---------------------------------------------------------------------- 3. URLs

BAD_URLS = [
    pytest.param("http://", id="no-host"),
    pytest.param("https://x.example\njavascript:alert(1)", id="newline"),
    pytest.param("javascript:alert(1)", id="javascript"),
    pytest.param("ftp://x.example/logo.png", id="ftp"),
    pytest.param("https://x.example/a b.png", id="space"),
    pytest.param("//x.example/logo.png", id="scheme-relative"),
    pytest.param("http://127.0.0.1/logo.png", id="loopback"),
    pytest.param("http://localhost:8080/logo.png", id="localhost"),
    pytest.param("http://169.254.169.254/latest/meta-data/", id="metadata"),
    pytest.param("http://10.1.2.3/logo.png", id="private"),
    pytest.param("http://192.168.0.10/logo.png", id="private-192"),
    pytest.param("http://[::1]/logo.png", id="v6-loopback"),
    pytest.param("http://[fd12:3456::1]/logo.png", id="unique-local"),
    pytest.param("http://[fe80::1]/logo.png", id="v6-link-local"),
    pytest.param("http://0.0.0.0/logo.png", id="unspecified"),
    pytest.param("http://2130706433/logo.png", id="decimal-ip"),
    pytest.param("http://0x7f.1/logo.png", id="hex-ip"),
    pytest.param("http://[::ffff:169.254.169.254]/", id="v4-mapped"),
    pytest.param("http://127.0.0.1\\@x.example/logo.png", id="backslash"),
    pytest.param("http://user:pass@x.example/logo.png", id="user-info"),
]


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    "path", ["branding.logo_url", "menu.categories.0.items.0.image_url"], ids=["logo", "image"]
)
def test_a_bad_or_private_url_is_refused(api: Api, path: str, url: str) -> None:
    _assert_422(_create(api, _restaurant_with(path, url)), f"restaurants.0.{path}")
    _assert_nothing_created(api)


def test_public_urls_are_stored_exactly_as_given(api: Api) -> None:
    logo = "HTTPS://Cafe-Aroha.Example:443/Logo.PNG?v=2#top"
    image = "https://8.8.8.8/fw.jpg"
    data = _restaurant_with("branding.logo_url", logo)
    data["menu"]["categories"][0]["items"][0]["image_url"] = image
    reply = _create(api, data)
    assert reply.status == 201, reply
    restaurant = api.client.job(reply.body["jobs"][0]["job_id"])["restaurant"]
    assert restaurant["branding"]["logo_url"] == logo
    assert restaurant["menu"]["categories"][0]["items"][0]["image_url"] == image


# ---------------------------------------------------------------------- 4. selectedMenuId


def test_step5_rejects_a_menu_that_is_not_the_jobs_own_and_the_others_proceed(api: Api) -> None:
    # given two jobs, and a Step 5 that gives the first one the second one's menu
    created = api.client.create_batch(["Cafe Aroha", "Kai Kitchen"])
    first, second = created["jobs"]
    before = api.job_item(first["job_id"])
    wrong = config_data("Cafe Aroha", menu={"selectedMenuId": "m-kai-kitchen-1"})
    reply = api.client.post(
        f"/registration-batches/{created['batch_id']}/step-5",
        {
            "jobs": [
                {"job_id": first["job_id"], "execution_config": wrong},
                {"job_id": second["job_id"], "execution_config": config_data("Kai Kitchen")},
            ]
        },
    )
    # then that job is rejected with its reason naming the field, the other one starts
    assert reply.status == 202, reply
    assert [a["job_id"] for a in reply.body["accepted"]] == [second["job_id"]]
    (rejected,) = reply.body["rejected"]
    assert rejected["job_id"] == first["job_id"] and rejected["code"] == "invalid_config"
    assert "execution_config.menu.selectedMenuId" in rejected["reason"]
    assert "m-kai-kitchen-1" in rejected["reason"]
    # and the rejected job is unchanged: no config, no run, no password stored for it
    _job_untouched(api, first["job_id"], before)
    assert first["job_id"] not in job_password_refs()
    api.runtime.wait_all()


def test_a_single_job_step5_with_another_menu_is_a_validation_error_naming_the_field(
    api: Api,
) -> None:
    # given a job waiting at Step 5 (the per-job use case under the batch route)
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    before = api.job_item(job_id)
    deps = wiring.api_deps()
    config = ExecutionConfigInput.model_validate(
        config_data("Cafe Aroha", menu={"selectedMenuId": "m-elsewhere"})
    )
    # when Step 5 is applied with a menu that is not the job's, then it is refused
    with pytest.raises(InvalidRequestError) as refused:
        submit_step5(deps.jobs, deps.secrets, deps.executions, deps.jobs.get_job(job_id), config)
    assert refused.value.field == "execution_config.menu.selectedMenuId"
    _job_untouched(api, job_id, before)
    assert job_password_refs() == {}
    # and through the API, the one-job request answers the same reason for that job
    reply = api.client.submit(
        created["batch_id"], created["jobs"], menu={"selectedMenuId": "m-elsewhere"}
    )
    assert reply.status == 202 and reply.body["accepted"] == [], reply
    assert reply.body["rejected"][0]["code"] == "invalid_config"
    _job_untouched(api, job_id, before)


def test_a_domain_validation_error_answers_422_naming_its_field(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a use case that refuses its input with a domain rule (as check_selected_menu does)
    def refuse(*_: object, **__: object) -> None:
        raise InvalidRequestError(
            "execution_config.menu.selectedMenuId 'm-x' is not the menu of job j",
            field="execution_config.menu.selectedMenuId",
        )

    monkeypatch.setattr(batch_actions, "submit_step5_selected", refuse)
    created = api.client.create_batch(["Cafe Aroha"])
    # then the one mapping in handlers.api answers 422 validation_error naming the field
    reply = api.client.submit(created["batch_id"], created["jobs"])
    _assert_422(reply, "execution_config.menu.selectedMenuId")


# ---------------------------------------------------------------------- 5. emails


@pytest.mark.parametrize(
    "email", ["Bob <bob@cafe-aroha.example>", " bob@cafe-aroha.example", "bob@localhost"]
)
def test_an_email_with_a_display_name_or_padding_is_refused_not_rewritten(
    api: Api, email: str
) -> None:
    _assert_422(_create(api, restaurant_data("Cafe Aroha", email=email)), "restaurants.0.email")
    _assert_nothing_created(api)
    job = api.waiting_job()
    job.config["account"]["email"] = email
    reply = api.client.submit_config(job.batch_id, job.job_id, job.config)
    _assert_422(reply, "jobs.0.execution_config.account.email")
    _job_untouched(api, job.job_id, job.item)


def test_emails_are_stored_exactly_as_given(api: Api) -> None:
    # given addresses in mixed case (email-validator would lowercase the domain)
    email = "Owner.Name@Cafe-Aroha.EXAMPLE"
    reply = _create(api, restaurant_data("Cafe Aroha", email=email))
    assert reply.status == 201, reply
    (job,) = reply.body["jobs"]
    assert api.client.job(job["job_id"])["restaurant"]["email"] == email
    # when Step 5 names the account in mixed case too, then it is kept as typed
    account = {"registerNewUser": True, "email": "New.Owner@Cafe-Aroha.EXAMPLE"}
    account["password"] = "S3cure-pass-123"
    submitted = api.client.submit(reply.body["batch_id"], [job], account=account)
    assert submitted.status == 202 and submitted.body["accepted"], submitted
    api.runtime.wait_all()
    shown = api.client.job(job["job_id"])["execution_config"]["account"]["email"]
    assert shown == "New.Owner@Cafe-Aroha.EXAMPLE"


# ---------------------------------------------------------------------- 6. malformed bodies

MALFORMED = [
    pytest.param("[" * 3000 + "]" * 3000, "nests deeper", id="nested-3000"),
    pytest.param(
        '{"name": "x", "restaurants": ' + "[" * 40 + "]" * 40 + "}",
        "nests deeper",
        id="nested-40",
    ),
    pytest.param('{"name": "x", "restaurants": [' + "9" * 5000 + "]}", "digits", id="5000-digits"),
    pytest.param('{"name": NaN, "restaurants": []}', "NaN", id="nan"),
    pytest.param('{"name": "a", "name": "b", "restaurants": []}', "'name'", id="duplicate-key"),
    pytest.param('{"name": "\\ud800", "restaurants": []}', "surrogate", id="lone-surrogate"),
    pytest.param('{"name": ', "Expecting value", id="truncated"),
]


@pytest.mark.parametrize(("body", "said"), MALFORMED)
def test_a_malformed_body_answers_a_4xx_naming_the_body_never_a_5xx(
    api: Api, body: str, said: str
) -> None:
    # when a body the API cannot read is posted, to either body route
    created = api.client.create_batch(["Cafe Aroha"])
    job_id = created["jobs"][0]["job_id"]
    before = api.job_item(job_id)
    for path in ("/registration-batches", f"/registration-batches/{created['batch_id']}/step-5"):
        reply = _post_raw(path, body)
        # then it is refused with the error body, naming `body` and why
        assert reply.status == 422, reply
        assert reply.body["error"] == "validation_error"
        assert reply.body["fields"] == [
            {"field": "body", "message": reply.body["message"], "type": "json_invalid"}
        ]
        assert said in reply.body["message"]
    # and nothing else was created or changed
    batches = api.client.get("/registration-batches").body["batches"]
    assert [b["batch_id"] for b in batches] == [created["batch_id"]]
    _job_untouched(api, job_id, before)


def test_the_deepest_legitimate_nesting_is_read(api: Api) -> None:
    # the nesting limit is far above what a real body uses
    assert MAX_BODY_DEPTH > 12
    body = json.dumps({"name": "Deep", "restaurants": [restaurant_data("Cafe Aroha")]})
    assert _post_raw("/registration-batches", body).status == 201


def test_a_body_that_is_not_utf8_is_refused(api: Api) -> None:
    raw = base64.b64encode(b'{"name": "\xff\xfe", "restaurants": []}').decode()
    reply = _post_raw("/registration-batches", raw, base64_encoded=True)
    assert reply.status == 422 and reply.body["error"] == "validation_error", reply
    assert "UTF-8" in reply.body["message"]
    assert [f["field"] for f in reply.body["fields"]] == ["body"]
    _assert_nothing_created(api)
