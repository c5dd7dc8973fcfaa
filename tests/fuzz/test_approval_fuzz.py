"""Fuzz the approval API Lambda (issue 6, "Bad input"): whatever reaches it (malformed link ids, path traversal,
oversized or undecodable bodies, wrong methods and content types, garbage CSRF or decision fields, unicode), it
answers 200 (a page to look at) or a 4xx, never a 5xx or a traceback, never shows the task token, and records a
decision only for a POST carrying the link's CSRF token."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

import boto3
import pytest
from coach.adapters.dynamodb import table_definition
from coach.adapters.memory import MemoryCallbacks, MemoryMailer, MemoryObjectStore
from coach.approvals.asking import request_approval
from coach.approvals.reasons import DECLINE_REASONS
from coach.approvals.records import group_of, link_hash
from hypothesis import event, given
from hypothesis import strategies as st
from moto import mock_aws

from coach_local.approval_server import api_event
from coach_local.dispatch import FakeLambdaContext
from tests.conftest import load_handler, set_function_env
from tests.fuzz.strategies import HUGE, INJECTIONS, UNICODE, fuzz_settings, hostile_text
from tests.unit.approval_fakes import (
    BUCKET,
    TOKEN,
    approval_request,
    contacts_json,
    http_api_event,
    link_id_in,
)

METHODS = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "OPTIONS",
    "TRACE",
    "CONNECT",
    "PROPFIND",
    "get",
    "post",
    "Post",
    "POSTX",
    "X",
]
CONTENT_TYPES = [
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data; boundary=----x",
    "application/json",
    "text/plain",
    "text/html",
    "application/xml",
    "application/octet-stream",
    "",
    "*/*",
    "application/x-www-form-urlencoded\r\nX-Injected: 1",
]

ENCODABLE = [
    t for t in INJECTIONS + UNICODE if not any("\ud800" <= c <= "\udfff" for c in t)
]  # no lone surrogate


@dataclass
class World:
    """The approval world one example talks to: a pending link, its CSRF token and the decision group."""

    call: Any
    store: Any
    callbacks: MemoryCallbacks
    link_id: str = ""
    csrf: str = ""
    group: str = ""
    made: int = 0

    def fresh(self) -> None:
        if self.made and self.made % 200 == 0:  # moto's Query scans the whole table: keep it small
            _create_table(drop=True)
        objects, mailer = MemoryObjectStore(), MemoryMailer()
        request = approval_request(deadline_seconds=86_400).model_copy(
            update={"campaign_id": f"fz{self.made}"}
        )
        objects.put(BUCKET, request.client.contacts_key, contacts_json())
        request_approval(
            request,
            store=self.store,
            mailer=mailer,
            objects=objects,
            data_bucket=BUCKET,
            sender="p@pbm.example",
            base_url="https://approve.example",
            now=time.time(),
        )
        self.made += 1
        self.link_id = link_id_in(mailer.sent[0].text)
        link = self.store.get_link(link_hash(self.link_id))
        self.csrf, self.group = link.csrf_token, group_of(request.campaign_id, "C1", "account_team")


def _create_table(drop: bool = False) -> None:
    dynamodb = boto3.client("dynamodb")
    if drop:
        dynamodb.delete_table(TableName="approvals")
    dynamodb.create_table(**table_definition("approvals"))


@pytest.fixture(scope="module")
def world():
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        set_function_env(patch, POWERTOOLS_LOG_LEVEL="CRITICAL")
        from coach import runtime

        runtime.reset()
        _create_table()
        module = load_handler("approval_api", "approval_api_fuzz_handler")
        callbacks = MemoryCallbacks()
        patch.setattr(module, "callbacks", lambda: callbacks)

        def call(api_gateway_event: dict) -> dict:
            return module.handler(api_gateway_event, FakeLambdaContext("coach-approval_api"))

        state = World(call=call, store=runtime.approval_store(), callbacks=callbacks)
        state.fresh()
        yield state
        runtime.reset()


# --- requests --------------------------------------------------------------------------------------------------
# Strategies are built once, with placeholders (letters and digits only, so urlencode keeps them) that become the
# current link id and CSRF token (or a near miss of them) when a request is sent.
PLACEHOLDERS: dict[str, Any] = {
    "QlinkQ": lambda link, csrf: link,
    "QlinkupperQ": lambda link, csrf: link.upper(),
    "QlinklowerQ": lambda link, csrf: link.lower(),
    "QlinkchopQ": lambda link, csrf: link[:-1],
    "QlinkrevQ": lambda link, csrf: link[::-1],
    "QlinkfiveQ": lambda link, csrf: link * 5,
    "QlinkshortQ": lambda link, csrf: link[:19],
    "QcsrfQ": lambda link, csrf: csrf,
    "QcsrfupperQ": lambda link, csrf: csrf.upper(),
    "QcsrfchopQ": lambda link, csrf: csrf[:-1],
    "QcsrfrevQ": lambda link, csrf: csrf[::-1],
}
LINK, CSRF = "QlinkQ", "QcsrfQ"


def fill(text: str, link: str, csrf: str) -> str:
    for placeholder, value in PLACEHOLDERS.items():
        if placeholder in text:
            text = text.replace(placeholder, value(link, csrf))
    return text


@dataclass
class Body:
    text: str | None = None  # a template, encoded after the placeholders are filled
    encoding: str = "utf-8"
    raw: bytes = b""

    def materialise(self, link: str, csrf: str) -> bytes:
        if self.text is None:
            return self.raw
        errors = "surrogatepass" if self.encoding.startswith("utf") else "replace"
        return fill(self.text, link, csrf).encode(self.encoding, errors)


@dataclass
class Request:
    version: str  # "1.0" (REST API) or "2.0" (HTTP API)
    method: str
    path: str
    headers: dict[str, str]
    body: Body
    base64_body: bool
    source_ip: str
    intended_valid: bool = False

    def event(self, link: str, csrf: str) -> tuple[dict, bytes]:
        body, path = self.body.materialise(link, csrf), fill(self.path, link, csrf)
        if self.version == "1.0":
            return api_event(self.method, path, self.headers, body, self.source_ip), body
        try:
            text_body: str | bytes = body if self.base64_body else body.decode("utf-8")
            base64_body = self.base64_body
        except UnicodeDecodeError:  # an HTTP API sends bodies that are not UTF-8 base64-encoded
            text_body, base64_body = body, True
        return http_api_event(
            self.method,
            path,
            text_body if body else None,
            base64_body=base64_body,
            headers={k.lower(): v for k, v in self.headers.items() if k != "User-Agent"},
            source_ip=self.source_ip,
            user_agent=self.headers.get("User-Agent", ""),
        ), body


CANONICAL_PATH = f"/a/{LINK}"
paths = st.one_of(
    st.just(CANONICAL_PATH),
    st.sampled_from(
        [
            f"{CANONICAL_PATH}/",
            f"{CANONICAL_PATH}/x",
            f"{CANONICAL_PATH}?decision=approve",
            f"{CANONICAL_PATH}#f",
            f"//a/{LINK}",
            f"/a//{LINK}",
            f"/A/{LINK}",
            "/a/QlinkupperQ",
            "/a/QlinklowerQ",
            "/a/QlinkchopQ",
            "/a/QlinkrevQ",
            "/a/QlinkfiveQ",
            "/a/QlinkshortQ",
            f"/a/{LINK}x",
            f"/a/%2F{LINK}",
            f"/a/../a/{LINK}",
            f"/a/./{LINK}",
            f"/a/{LINK}%00",
            f"/a/{LINK}\x00",
            f"{CANONICAL_PATH}.json",
            f"/a/{LINK}/../../etc/passwd",
        ]
    ),
    st.sampled_from(
        [
            "/a/../../etc/passwd",
            "/a/..%2f..%2fetc%2fpasswd",
            "/a/%2e%2e/%2e%2e/",
            "/../a/x",
            "/a/..",
            "/a/....//....//etc/passwd",
            "/a/..\\..\\windows",
            "/a/%252e%252e%252f",
            "/a/.%00./",
            "/",
            "",
            "/a",
            "/a/",
            "/admin",
            "/a/%",
            "/a/%zz",
            "/a/" + "A" * 20,
            "/a/" + "A" * 100,
            "/a/" + "A" * 101,
        ]
    ),
    st.builds(lambda text: "/a/" + text, hostile_text),
    hostile_text,
    st.builds(lambda n: "/a/" + "x" * n, st.integers(min_value=0, max_value=3 * HUGE)),
)
headers = st.builds(
    lambda ua, ct, extra: {"User-Agent": ua, **({"Content-Type": ct} if ct is not None else {}), **extra},
    st.sampled_from(["Mozilla/5.0 (iPhone)", "curl/8.0", ""]) | hostile_text,
    st.none() | st.sampled_from(CONTENT_TYPES) | hostile_text,
    st.dictionaries(
        st.sampled_from(
            [
                "Cookie",
                "X-Forwarded-For",
                "Origin",
                "Referer",
                "Content-Length",
                "Transfer-Encoding",
                "X-Csrf-Token",
                "Accept-Charset",
            ]
        )
        | hostile_text,
        hostile_text,
        max_size=3,
    ),
)
csrf_values = st.one_of(
    st.just(CSRF),
    st.sampled_from(
        [
            "",
            "null",
            "undefined",
            "0",
            "QcsrfupperQ",
            "QcsrfchopQ",
            "QcsrfrevQ",
            f" {CSRF}",
            f"{CSRF} ",
            f"{CSRF}{CSRF}",
            f"{CSRF}\x00",
        ]
    ),
    st.builds(lambda t: CSRF + t, st.text(min_size=1, max_size=3)),
    hostile_text,
)
decisions = (
    st.sampled_from(["approve", "decline", "APPROVE", "yes", "approved", "", " approve", "approve\x00"])
    | hostile_text
)
form_fields = st.sampled_from(["csrf_token", "decision", "comment"]) | hostile_text
pairs = st.lists(st.tuples(form_fields, hostile_text | csrf_values | decisions), max_size=14)


def _urlencoded(pairs: list[tuple[str, str]]) -> Body:
    encoded = [(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs]
    return Body(urlencode(encoded))


bodies = st.one_of(
    st.builds(
        lambda c, d, comment, extra, forward: _urlencoded(
            [("csrf_token", c), ("decision", d), ("comment", comment), *extra][:: 1 if forward else -1]
        ),
        csrf_values,
        decisions,
        st.text(max_size=50) | hostile_text,
        pairs,
        st.booleans(),
    ),
    st.builds(_urlencoded, pairs),
    st.builds(lambda c, d: Body(json.dumps({"csrf_token": c, "decision": d})), csrf_values, decisions),
    st.builds(
        lambda c: Body(
            f'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n{c}\r\n'
            '--x\r\nContent-Disposition: form-data; name="decision"\r\n\r\napprove\r\n--x--'
        ),
        csrf_values,
    ),
    st.builds(
        lambda c, encoding: Body(f"csrf_token={c}&decision=approve&comment=\u00e9\u20ac", encoding),
        st.just(CSRF) | csrf_values,
        st.sampled_from(["latin-1", "utf-16", "utf-16-le", "utf-32", "cp1252"]),
    ),
    st.builds(lambda raw: Body(raw=raw), st.binary(max_size=300)),
    st.builds(lambda raw: Body(raw=b"\xff\xfe" + raw), st.binary(max_size=40)),  # never valid UTF-8
    st.builds(lambda n: Body("a=1&" * n), st.integers(min_value=9, max_value=5000)),  # too many fields
    st.builds(
        lambda n: Body(f"csrf_token={CSRF}&decision=approve&comment=" + "x" * n),
        st.sampled_from([990, 1001, 8 * 1024, 16 * 1024, 16 * 1024 + 1, HUGE]),
    ),
    st.just(Body("")),
)
valid_clicks = st.builds(
    lambda version, decision, comment, extra, user_agent, b64: Request(
        version,
        "POST",
        CANONICAL_PATH,
        {"User-Agent": user_agent, "Content-Type": "application/x-www-form-urlencoded"},
        Body(
            urlencode(
                [
                    ("csrf_token", CSRF),
                    ("decision", decision),
                    ("reason", "timing"),
                    ("comment", comment),
                    *extra,
                ]
            )
        ),
        base64_body=version == "1.0" or b64,
        source_ip="198.51.100.7",
        intended_valid=True,
    ),
    st.sampled_from(["1.0", "2.0"]),
    st.sampled_from(["approve", "decline"]),
    st.text(max_size=200) | st.sampled_from(ENCODABLE),
    st.lists(st.tuples(st.sampled_from(["submit", "x", "utf8"]), st.text(max_size=5)), max_size=5),
    st.sampled_from(["Mozilla/5.0", ""]) | st.text(max_size=30),
    st.booleans(),
)
requests = st.one_of(
    valid_clicks,  # a real person's click: it must be recorded
    st.builds(
        Request,
        st.sampled_from(["1.0", "2.0"]),
        st.sampled_from(METHODS),
        paths,
        headers,
        bodies,
        st.booleans(),
        st.sampled_from(["198.51.100.7", "", "::1", "not-an-ip"]) | hostile_text,
    ),
    st.builds(
        Request,
        st.sampled_from(["1.0", "2.0"]),
        st.sampled_from(["GET", "HEAD", "POST", "POST", "POST"]),
        st.just(CANONICAL_PATH),
        headers,
        bodies,
        st.booleans(),
        st.just("198.51.100.7"),
    ),
)


def carries_csrf(body: bytes, csrf: str) -> bool:
    """The oracle: does the body, read as a form, hold the link's CSRF token and a decision (first values)?"""
    try:
        form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return False
    decision = form.get("decision", [""])[0]
    if form.get("csrf_token", [""])[0] != csrf or decision not in ("approve", "decline"):
        return False
    reason, comment = form.get("reason", [""])[0], form.get("comment", [""])[0]
    # a decline needs a listed reason, and "other" a few words (coach.approvals.reasons)
    return decision == "approve" or (
        reason in DECLINE_REASONS and (reason != "other" or bool(comment.strip()))
    )


def _headers(response: dict) -> dict[str, str]:
    flat = {
        k.lower(): (v[0] if isinstance(v, list) else v)
        for k, v in (response.get("multiValueHeaders") or {}).items()
    }
    flat.update({k.lower(): v for k, v in (response.get("headers") or {}).items()})
    return flat


@fuzz_settings()
@given(request=requests)
def test_approval_api_answers_4xx_or_a_page_and_decides_only_on_a_valid_post(request: Request, world: World):
    calls_before = len(world.callbacks.calls)
    api_gateway_event, sent_body = request.event(world.link_id, world.csrf)
    response = world.call(api_gateway_event)
    status = response["statusCode"]
    event(f"{request.method} → {status}")
    recorded = world.store.get_decision(world.group) is not None
    dumped = json.dumps(response)

    assert isinstance(status, int) and (status == 200 or 400 <= status < 500), f"status {status}"
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", "replace")
    assert "Traceback" not in body and 'File "' not in body, "a traceback reached the page"
    assert TOKEN not in dumped, "the task token reached the response"
    assert _headers(response).get("cache-control") == "no-store", "every page must be uncacheable"
    if request.method.upper() == "HEAD" and status == 200:
        assert not body, "the HEAD route shows headers only"
    if status == 200 and request.method.upper() not in ("GET", "HEAD"):
        assert recorded, "a 200 to a POST must mean the decision was recorded"
    if recorded:
        assert request.method.upper() == "POST" and carries_csrf(sent_body, world.csrf), (
            "decided without CSRF"
        )
        assert len(world.callbacks.calls) == calls_before + 1 and world.callbacks.calls[-1][1] == TOKEN
        world.fresh()
    else:
        assert len(world.callbacks.calls) == calls_before, "the workflow heard of a decision nobody recorded"
    if request.intended_valid:
        assert status == 200 and recorded, f"a valid click was refused with {status}"
