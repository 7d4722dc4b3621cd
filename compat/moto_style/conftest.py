"""Fixtures the way moto server-mode users write them: one server for the session, and a
reset through `POST /moto-api/reset` before every test. Here the server is sfnlite."""
import os
import re
import subprocess
import tempfile

import boto3
import pytest
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="session")
def endpoint():
    binary = os.environ.get("SFNLITE_BIN", os.path.join(ROOT, "target", "release", "sfnlite"))
    with tempfile.TemporaryDirectory() as data:
        proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--enable-reset", "--db", os.path.join(data, "sfnlite.db")],
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            for line in proc.stderr:
                m = re.match(r"listening on (\S+)", line)
                if m:
                    break
            else:
                raise RuntimeError("sfnlite did not start")
            yield f"http://{m.group(1)}"
        finally:
            proc.terminate()
            proc.wait(timeout=30)


@pytest.fixture(autouse=True)
def reset(endpoint):
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")).read()


@pytest.fixture
def sfn(endpoint):
    return boto3.client(
        "stepfunctions",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
