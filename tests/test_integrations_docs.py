"""docs/integrations.md and the workflow it offers stay true: the YAML parses, the commands it
shows are real gillint commands, and running them gives what the page says."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import yaml

from gillint.cli import build_parser

from conftest import FIXTURES, ROOT, gillint_command

DOC = ROOT / "docs" / "integrations.md"
WORKFLOW = ROOT / "docs" / "examples" / "gillint.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"


def code_blocks(language: str) -> List[str]:
    text = DOC.read_text(encoding="utf-8")
    return [m.group(1) for m in re.finditer(r"^ *```%s\n(.*?)^ *```" % language, text, re.S | re.M)]


def workflow() -> Dict[str, Any]:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def gillint_steps() -> List[str]:
    runs = []
    for job in workflow()["jobs"].values():
        for step in job["steps"]:
            if str(step.get("run", "")).startswith("gillint "):
                runs.append(step["run"])
    return runs


def test_workflow_is_valid_yaml_with_both_jobs() -> None:
    data = workflow()
    triggers = data.get("on", data.get(True))  # YAML 1.1 reads a bare `on` key as true
    assert "pull_request" in triggers
    assert set(data["jobs"]) == {"annotations", "code-scanning"}
    scanning = data["jobs"]["code-scanning"]
    assert scanning["permissions"]["security-events"] == "write"
    upload = [s for s in scanning["steps"] if str(s.get("uses", "")).startswith("github/codeql-action/upload-sarif")]
    assert len(upload) == 1
    sarif_command = shlex.split(next(r for r in gillint_steps() if "sarif" in r))
    assert upload[0]["with"]["sarif_file"] == sarif_command[sarif_command.index("--output") + 1]


def test_every_gillint_command_on_the_page_and_in_the_workflow_parses() -> None:
    commands = set(gillint_steps())
    for block in code_blocks("yaml") + code_blocks("sh"):
        for line in block.splitlines():
            found = re.search(r"(gillint (?:check|rule|rules)\b[^`#\n]*)", line)
            if found:
                commands.add(found.group(1).strip())
    for text in re.findall(r"`(gillint check[^`]*)`", DOC.read_text(encoding="utf-8")):
        commands.add(text)
    assert len(commands) >= 4
    for command in commands:
        args = shlex.split(command)[1:]
        build_parser().parse_args(args)  # exits with status 2 on an unknown option


def _run_workflow_command(command: str, cwd: Path) -> subprocess.CompletedProcess:
    args = shlex.split(command)
    assert args[0] == "gillint"
    return subprocess.run(gillint_command() + args[1:], cwd=str(cwd), capture_output=True, text=True, timeout=300)


def test_workflow_commands_report_the_fixture_package(tmp_path: Path) -> None:
    """Run the workflow's own commands in a copy of a project with findings, as the runner would."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "crossmodule_pkg", project)
    expected = json.loads(_run_workflow_command("gillint check --format json .", project).stdout)["diagnostics"]
    assert len(expected) == 4

    github = _run_workflow_command(next(r for r in gillint_steps() if "github" in r), project)
    assert github.returncode == 1, github.stderr  # the job fails on findings
    annotations = [line for line in github.stdout.splitlines() if line.startswith("::warning ")]
    located = {(re.search(r"file=([^,]+)", a).group(1), int(re.search(r"line=(\d+)", a).group(1))) for a in annotations}
    assert located == {(d["path"], d["line"]) for d in expected}

    sarif = _run_workflow_command(next(r for r in gillint_steps() if "sarif" in r), project)
    assert sarif.returncode == 0, sarif.stderr  # --exit-zero: code scanning tracks the findings
    document = json.loads((project / "gillint.sarif").read_text(encoding="utf-8"))
    assert document["version"] == "2.1.0"
    results = document["runs"][0]["results"]
    assert sorted(r["ruleId"] for r in results) == sorted(d["code"] for d in expected)


def test_pre_commit_snippets_name_hooks_that_exist() -> None:
    hook_ids = {hook["id"] for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    configs = [yaml.safe_load(block) for block in code_blocks("yaml") if block.lstrip().startswith("repos:")]
    assert configs, "the page shows a .pre-commit-config.yaml snippet"
    for config in configs:
        for repo in config["repos"]:
            if repo["repo"].endswith("/gillint"):
                assert {hook["id"] for hook in repo["hooks"]} <= hook_ids


def test_vscode_settings_snippet_is_valid_json() -> None:
    blocks = code_blocks("json")
    assert blocks
    settings = json.loads(blocks[0])
    assert settings["flake8.importStrategy"] == "fromEnvironment"


def test_flake8_option_table_matches_the_plugin() -> None:
    from gillint.flake8_plugin import GillintChecker

    added: List[str] = []

    class Recorder:
        def add_option(self, *names: str, **_: Any) -> None:
            added.extend(names)

    GillintChecker.add_options(Recorder())
    documented = set(re.findall(r"`(--gillint-[a-z-]+)", DOC.read_text(encoding="utf-8")))
    assert documented == set(added)
