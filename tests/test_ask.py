"""`kubevet ask`: questions mapped to analyses offline, answers built only from the analyses'
own output, and a model endpoint whose invented facts are caught."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from conftest import FIXTURES, ROOT

from kubevet.cli import main

SHOP = str(FIXTURES / "ask" / "shop")


def _accuracy():
    spec = importlib.util.spec_from_file_location(
        "ask_accuracy", ROOT / "bench" / "ask_accuracy.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.evaluate()


def test_offline_mapping_is_right_on_the_question_set():
    right, total, wrong = _accuracy()
    assert total >= 150
    assert right / total >= 0.95, "\n".join(wrong)


def _ask(capsys, *argv: str) -> tuple[int, dict]:
    code = main(["ask", *argv, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def _json(capsys, *argv: str) -> dict | list:
    main([*argv, "--format", "json", "-j", "1"])
    return json.loads(capsys.readouterr().out)


def test_posture_answer_is_the_check_output(capsys):
    code, got = _ask(capsys, "is anything privilegd?", SHOP)
    assert code == 0 and got["analysis"] == "posture"
    report = _json(capsys, "check", SHOP, "--select", "KV105")
    active = [f for f in report["findings"] if f["suppressed"] is None]
    assert len(got["evidence"]) == len(active) == 1
    assert active[0]["message"] in got["evidence"][0]
    assert got["answer"].startswith("1 workload(s) have 1 finding(s) of KV105")


def test_reachability_answers_are_the_netpol_output(capsys):
    conns = _json(capsys, "netpol", SHOP)
    allowed = {(c["src"].split("[")[0], c["dst"].split("[")[0]) for c in conns}
    for src, dst in [("frontend", "database"), ("api", "database"), ("frontend", "api")]:
        _, got = _ask(capsys, f"can the {src} reach the {dst}?", SHOP)
        expected = (f"shop/{src}", f"shop/{dst}") in allowed
        assert got["answer"].startswith("Yes" if expected else "No"), got
    _, got = _ask(capsys, "who can talk to the database?", SHOP)
    sources = sorted({s for s, d in allowed if d == "shop/database" and s != d})
    assert (
        got["answer"] == f"{len(sources)} source(s) can reach shop/database: {', '.join(sources)}."
    )


def test_upgrade_answer_is_the_upgrade_output(capsys):
    _, got = _ask(capsys, "can I upgrade to 1.29?", SHOP)
    report = _json(capsys, "upgrade", SHOP, "--to", "1.29")
    assert got["arguments"] == {"to": "1.29"}
    assert got["answer"].startswith("No" if report["blocked"] else "Yes")
    assert f"{report['blockers']} blocker(s)" in got["answer"]


def test_rule_question_needs_no_inputs(capsys):
    code, got = _ask(capsys, "what does KV113 mean?")
    assert code == 0 and got["analysis"] == "rule-doc"
    assert got["answer"].startswith("KV113 (seccomp-profile)")


def test_unknown_questions_are_declined_with_what_can_be_asked(capsys):
    code, got = _ask(capsys, "what is the weather today?", SHOP)
    assert code == 2 and got["analysis"] is None and got["answer"] is None
    assert "upgrade" in got["can_answer"]
    assert main(["ask", "can the frontend reach the moon?", SHOP]) == 2
    assert "name two workloads" in capsys.readouterr().err


class _Model(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint with scripted replies: first the tool call, then the
    wording (which may state facts the analysis never gave)."""

    replies: ClassVar[list[dict]] = []
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).received.append(body)
        reply = json.dumps(type(self).replies.pop(0)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def model():
    server = HTTPServer(("127.0.0.1", 0), _Model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Model.replies, _Model.received = [], []
    yield f"http://127.0.0.1:{server.server_port}/v1", _Model
    server.shutdown()


def _tool_call(analysis: str, arguments: dict) -> dict:
    call = {
        "function": {
            "name": "choose_analysis",
            "arguments": json.dumps({"analysis": analysis, "arguments": arguments}),
        }
    }
    return {"choices": [{"message": {"role": "assistant", "tool_calls": [call]}}]}


def _says(text: str) -> dict:
    return {"choices": [{"message": {"role": "assistant", "content": text}}]}


@pytest.mark.parametrize(
    "wording",
    [
        "Three workloads are privileged: shop/api, shop/database and shop/frontend.",  # 3? names
        "1 workload is privileged: shop/payments.",  # a workload that does not exist
        "KV999 found 1 privileged workload.",  # a rule code the analysis never used
        "1 workload has 7 findings of KV105.",  # a wrong count
    ],
)
def test_invented_facts_are_caught_and_replaced(model, capsys, wording):
    url, handler = model
    handler.replies = [_tool_call("posture", {"rules": ["KV105"]}), _says(wording)]
    code, got = _ask(capsys, "anything privileged?", SHOP, "--llm", url, "--llm-send-objects")
    assert code == 0
    assert got["answer"].startswith("1 workload(s) have 1 finding(s) of KV105")  # computed
    assert any("computed answer is shown instead" in n for n in got["notes"])


def test_a_faithful_wording_is_used(model, capsys):
    url, handler = model
    handler.replies = [
        _tool_call("posture", {"rules": ["KV105"]}),
        _says("Yes, one thing: Deployment shop/api runs a privileged container (KV105)."),
    ]
    _, got = _ask(capsys, "anything privileged?", SHOP, "--llm", url, "--llm-send-objects")
    assert (
        got["answer"] == "Yes, one thing: Deployment shop/api runs a privileged container (KV105)."
    )
    assert got["notes"] == []


def test_without_send_objects_the_model_sees_only_the_question(model, capsys):
    url, handler = model
    handler.replies = [_tool_call("reachers", {"target": "shop/database"})]
    _, got = _ask(capsys, "who reaches the db?", SHOP, "--llm", url)
    assert got["analysis"] == "reachers" and got["arguments"] == {"target": "shop/database"}
    assert len(handler.received) == 1  # no wording call: the facts stay here
    assert "shop/api" not in json.dumps(handler.received[0])


def test_a_model_choosing_nothing_valid_falls_back_to_the_parser(model, capsys):
    url, handler = model
    handler.replies = [_tool_call("delete-cluster", {})]
    _, got = _ask(capsys, "is anything privileged?", SHOP, "--llm", url)
    assert got["analysis"] == "posture"
    assert any("offline parser chose" in n for n in got["notes"])


def test_readme_examples_give_the_answers_shown(capsys, monkeypatch):
    import shlex

    lines = (ROOT / "README.md").read_text().splitlines()
    shown = [(x[2:], lines[i + 1]) for i, x in enumerate(lines) if x.startswith("$ kubevet ask ")]
    assert len(shown) >= 3
    monkeypatch.chdir(ROOT / "examples")
    for command, first_line in shown:
        assert main(shlex.split(command)[1:]) == 0
        assert capsys.readouterr().out.splitlines()[0] == first_line


def test_a_number_is_supported_only_by_a_number_of_the_facts():
    """A 7 was taken as supported by digits inside a path (`pytest-107`): the check above
    then failed on machines whose temporary directory held a 7."""
    from kubevet.ask.llm import unsupported

    facts = "1 workload(s) have 1 finding(s) of KV105 in /tmp/pytest-107/shop.yaml; 1.29.3"
    assert unsupported("1 workload has 7 findings of KV105.", facts) == ["7"]
    assert unsupported("It runs 1.29 (1.29.3).", facts) == []
    assert unsupported("It runs 1.3.", facts) == ["1.3"]
