"""Publishing and launching: the Pages workflow, Binder's environment.yml, the launch targets.

The repository's address is set once, in _config.yml (repository.url); the launch buttons read
it there, and each chapter's install cell must name the same address.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def load(path: Path):
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def workflow() -> dict:
    return load(WORKFLOW)


@pytest.fixture(scope="module")
def config() -> dict:
    return load(ROOT / "_config.yml")


def readme_build_command() -> str:
    """The command README.md gives for building the book (in its first bash block)."""
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    lines = [line.strip() for line in block[1].splitlines()]
    (command,) = [line for line in lines if "lrgap build" in line and not line.startswith("#")]
    return command


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def test_workflow_parses_and_runs_on_the_books_branch(workflow, config):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert triggers["push"]["branches"] == [config["repository"]["branch"]]
    assert "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}


def test_build_step_is_the_readmes_build_command(workflow):
    runs = [step.get("run", "") for step in steps(workflow, "build")]
    command = readme_build_command()
    assert "--profile" in command
    assert any(command in run.splitlines() for run in runs), (command, runs)


def test_the_built_html_is_deployed_with_the_official_pages_actions(workflow):
    used = [step.get("uses", "").split("@")[0] for step in steps(workflow, "build")]
    assert used.index("actions/configure-pages") < used.index("actions/upload-pages-artifact")
    (upload,) = [
        s for s in steps(workflow, "build") if "upload-pages-artifact" in s.get("uses", "")
    ]
    assert upload["with"]["path"] == "book/_build/html"
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]


def test_the_browser_check_runs_before_publishing(workflow):
    runs = [step.get("run", "") for step in steps(workflow, "build")]
    check = [i for i, run in enumerate(runs) if "tests/browser/check_book.py" in run]
    build = [i for i, run in enumerate(runs) if "lrgap build" in run]
    assert check and build and build[0] < check[0]


def test_environment_yml_is_what_repo2docker_reads(config):
    """At the root; conda-forge; python=X.Y (repo2docker's pin); the package itself via `-e .`."""
    env = load(ROOT / "environment.yml")
    assert "conda-forge" in env["channels"]
    (python,) = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert re.fullmatch(r"python=3\.\d+", python), python
    pyproject = (ROOT / "pyproject.toml").read_text()
    minimum = re.search(r'requires-python = ">=3\.(\d+)"', pyproject)[1]
    assert int(python.split(".")[1]) >= int(minimum)
    assert "pip" in env["dependencies"]
    (pip,) = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    # repo2docker installs a local requirement (-e .) once the repository is copied in
    assert any(re.fullmatch(r"-e \.(\[[\w,]+\])?", line) for line in pip), pip


def chapter_pages() -> list[str]:
    toc = load(ROOT / "_toc.yml")
    files = [entry["file"] for part in toc["parts"] for entry in part["chapters"]]
    return [f for f in files if (ROOT / "notebooks" / f"{f}.py").exists()]


def test_launch_buttons_open_notebooks_that_are_in_git(config):
    """Binder and Colab open <path_to_book>/<page>.ipynb of the repository on GitHub."""
    url = config["repository"]["url"]
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url), url
    assert config["launch_buttons"]["binderhub_url"] and config["launch_buttons"]["colab_url"]
    folder = config["repository"]["path_to_book"]
    tracked = subprocess.run(
        ["git", "ls-files", folder], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    pages = chapter_pages()
    assert pages
    for page in pages:
        assert f"{folder}/{page}.ipynb" in tracked, page


def test_install_cells_name_the_configured_repository(config):
    url = config["repository"]["url"]
    pattern = re.compile(r'"(https?://[^"]+)"  # _config\.yml repository\.url')
    for source in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        text = source.read_text()
        named = pattern.findall(text)
        assert named, f"{source.name} has no install cell"
        first_code = re.split(r"^# %%(?: tags=\[[^]]*\])?\n", text, maxsplit=1, flags=re.M)[1]
        assert first_code.startswith("# Outside a checkout"), (
            f"{source.name}: install cell not first"
        )
        assert all(u == url for u in named), (source.name, named, url)


def test_the_package_has_one_version_number():
    """pyproject.toml reads it from lrgap_nb.__version__ (provenance records that one)."""
    import importlib.metadata

    import lrgap_nb

    assert importlib.metadata.version("lrgap-nb") == lrgap_nb.__version__
    assert 'version = { attr = "lrgap_nb.__version__" }' in (ROOT / "pyproject.toml").read_text()
