"""SARIF 2.1.0: one rule descriptor per rule, evidence as related locations and a code flow."""

from __future__ import annotations

import json
import os
from pathlib import PurePath
from typing import Any, Dict, List

from .. import __version__
from ..checks.base import all_rules
from ..diagnostics import ERROR_CODE, ERROR_NAME, Diagnostic, Location
from ..engine import LintResult

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
DOCS = "https://github.com/gillint/gillint/blob/main/docs/rules/%s.md"


def _uri(path: str) -> str:
    posix = PurePath(path).as_posix()
    if os.path.isabs(path):
        return PurePath(path).as_uri()
    return posix


def _region(location: Location) -> Dict[str, int]:
    return {
        "startLine": location.line,
        "startColumn": location.column,
        "endLine": location.end_line,
        "endColumn": max(location.end_column, 1),
    }


def _location(location: Location, message: str = "") -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "physicalLocation": {"artifactLocation": {"uri": _uri(location.path)}, "region": _region(location)}
    }
    if message:
        result["message"] = {"text": message}
    return result


def rule_descriptors() -> List[Dict[str, Any]]:
    descriptors = [{
        "id": ERROR_CODE,
        "name": ERROR_NAME,
        "shortDescription": {"text": "A file could not be read, decoded or parsed"},
        "fullDescription": {"text": "gillint reports every file it could not check, with the reason."},
        "help": {"text": "Fix the file's encoding or syntax, or exclude it."},
        "helpUri": DOCS % ERROR_CODE,
        "defaultConfiguration": {"level": "error"},
    }]
    for rule in all_rules():
        documentation = rule.documentation()
        descriptors.append({
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "fullDescription": {"text": documentation.split("## Why is this bad?")[0].replace("## What it does", "").strip()},
            "help": {"text": documentation, "markdown": documentation},
            "helpUri": DOCS % rule.code,
            "defaultConfiguration": {"level": "warning", "enabled": rule.default_enabled},
            "properties": {"remedy": rule.remedy.value, "tags": ["performance", "concurrency", "gil"]},
        })
    return descriptors


def _result(d: Diagnostic, index: int) -> Dict[str, Any]:
    result: Dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": "error" if d.code == ERROR_CODE else "warning",
        "message": {"text": d.message + (" Fix: " + d.remedy_text if d.remedy_text else "")},
        "locations": [_location(d.location)],
        "properties": {"remedy": d.remedy.value, "confidence": d.confidence.value, **dict(d.properties)},
    }
    if d.evidence:
        result["relatedLocations"] = [
            dict(_location(step.location, "%s: %s" % (step.function, step.note)), id=number)
            for number, step in enumerate(d.evidence, 1)
        ]
        result["codeFlows"] = [{
            "threadFlows": [{
                "locations": [
                    {"location": _location(step.location, "%s: %s" % (step.function, step.note)), "nestingLevel": depth}
                    for depth, step in enumerate(d.evidence)
                ]
            }]
        }]
    if d.target is not None:
        result["properties"]["verifyTarget"] = d.target.to_dict()
    if d.fix is not None:
        result["properties"]["fix"] = {"applicability": d.fix.applicability, "title": d.fix.title,
                                       "reason": d.fix.reason}
        if d.fix.available:
            result["fixes"] = [_fix(d)]
    return result


def _fix(d: Diagnostic) -> Dict[str, Any]:
    """A SARIF fix: whole-line replacements (an empty deleted region at a line inserts before it)."""
    assert d.fix is not None
    replacements = []
    for edit in d.fix.edits:
        replacement: Dict[str, Any] = {"deletedRegion": {"startLine": edit.start_line, "startColumn": 1,
                                                         "endLine": edit.end_line, "endColumn": 1}}
        if edit.content:
            replacement["insertedContent"] = {"text": edit.content}
        replacements.append(replacement)
    label = d.fix.title if d.fix.applicability == "safe" else "%s (unsafe: %s)" % (d.fix.title, d.fix.reason)
    return {"description": {"text": label},
            "artifactChanges": [{"artifactLocation": {"uri": _uri(d.path)}, "replacements": replacements}]}


def sarif_document(result: LintResult) -> Dict[str, Any]:
    rules = rule_descriptors()
    index = {rule["id"]: number for number, rule in enumerate(rules)}
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gillint",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/gillint/gillint",
                "rules": rules,
            }},
            "invocations": [{"executionSuccessful": True}],
            "results": [_result(d, index.get(d.code, 0)) for d in result.diagnostics],
        }],
    }


def render_sarif(result: LintResult) -> str:
    return json.dumps(sarif_document(result), indent=2, default=str) + "\n"
