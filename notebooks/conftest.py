"""nbval executes these notebooks at `smoke`: their tables and figures go to a throwaway folder
(`LRGAP_OUTPUTS`, read when each notebook's kernel starts), so running the tests never replaces
the outputs of chapters rendered at a larger profile in book/_extra/outputs."""

import os
import tempfile
from unittest import mock

import pytest

_OUTPUTS = tempfile.TemporaryDirectory(prefix="lrgap-nbval-outputs-")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with mock.patch.dict(os.environ, LRGAP_OUTPUTS=_OUTPUTS.name):
        yield
