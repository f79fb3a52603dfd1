"""Schemathesis against the whole OpenAPI document, on a live server started by the test,
signed in with a token of the union office (the widest reader and writer of the demo
personas): no server error, every status documented, every response as its schema says.

Deterministic (a fixed seed), bounded (examples per operation); ``API_FUZZ_EXAMPLES`` runs
it harder by hand."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from gongkai.api.services import personal_token_create
from gongkai.disclosure.models import Scope
from gongkai.voice.services import suggestion_submit
from tests.factories import published_disclosure

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)


def schemathesis() -> str:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[dev]')")
    return found


def test_the_whole_api_survives_schemathesis(org, live_server, tmp_path):
    published_disclosure(unit=org.company, scope=Scope.PUBLIC, title="公开的招待费")
    published_disclosure(unit=org.boiler, scope=Scope.INTERNAL, title="内部的物资采购")
    suggestion_submit(
        actor=org["employee"], unit=org.company, category="management", title="建议", body="内容"
    )
    _token, raw = personal_token_create(
        actor=org["union"],
        name="fuzz",
        scope="write",
        units=[],
        expires_on=timezone.localdate() + timedelta(days=2),
    )
    examples = os.environ.get("API_FUZZ_EXAMPLES", "20")
    # Unit codes are fuzzed by tests/test_api.py; here they name the test company, so that
    # the fuzzer reaches the boards, obligations and roster behind them.
    config = tmp_path / "schemathesis.toml"
    config.write_text('[parameters]\n"path.code" = "rd"\n"path.company_code" = "rd"\n')
    result = subprocess.run(
        [
            schemathesis(),
            "--config-file",
            str(config),
            "run",
            f"{live_server.url}/api/v1/openapi.json",
            "--header",
            f"Authorization: Bearer {raw}",
            "--checks",
            CHECKS,
            "--max-examples",
            examples,
            "--seed",
            "20261207",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
            "--no-color",
            "--report",
            "junit",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=tmp_path,  # its caches stay out of the checkout
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-12000:]
    assert "Tested: 0" not in output, output[-3000:]
