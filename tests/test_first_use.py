"""What a new user meets first: the help, the README's commands, and the messages when something is missing."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sheetbill.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_every_command_and_option_has_a_one_line_help_without_markup():
    parser = build_parser()
    assert parser.description and "``" not in parser.format_help() and ":mod:" not in parser.format_help()
    for name, sub in subcommands(parser).items():
        assert sub.description, f"{name} has no description"
        text = sub.format_help()
        assert "``" not in text and ":func:" not in text, name
        for action in sub._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help and "\n" not in action.help, f"{name} {action.dest} has no help"


def test_the_readme_shows_how_to_set_a_token_right_where_it_shows_serve():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    at = readme.index("sheetbill serve --port 8000")
    nearby = readme[max(0, at - 600):at + 600]
    assert "SHEETBILL_API_TOKENS" in nearby and "16" in nearby


def test_serve_without_a_token_says_how_to_set_one(monkeypatch, capsys):
    monkeypatch.delenv("SHEETBILL_API_TOKENS", raising=False)
    monkeypatch.delenv("SHEETBILL_SERVER_CONFIG", raising=False)
    pytest.importorskip("uvicorn")
    assert main(["serve", "--port", "8000"]) == 2
    err = capsys.readouterr().err
    assert "SHEETBILL_API_TOKENS" in err and "16" in err


def test_sync_without_credentials_says_how_to_pass_them(monkeypatch, tmp_path, capsys):
    pytest.importorskip("gspread")
    for name in ("SHEETBILL_GOOGLE_TOKEN", "SHEETBILL_GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / ".config"))
    monkeypatch.setenv("APPDATA", str(tmp_path))
    assert main(["sync", "1AbCdEf"]) == 2
    err = capsys.readouterr().err
    assert "--credentials" in err and "service-account" in err and "docs/google-sheets.md" in err
    assert "file not found" not in err


def test_make_demo_says_its_problems_are_deliberate_before_showing_them():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    demo = makefile[makefile.index("\ndemo:"):makefile.index("\n## The whole test suite")]
    announce = re.search(r"echo .*deliberate", demo)
    assert announce and announce.start() < demo.index("sheetbill bill")


@pytest.mark.skipif(sys.platform == "win32", reason="make")
def test_make_demo_prints_the_deliberate_line_before_any_error_line(tmp_path):
    make = subprocess.run(["make", "-n", "demo"], cwd=ROOT, capture_output=True, text=True)
    if make.returncode != 0:
        pytest.skip("make is not available")
    lines = make.stdout.splitlines()
    assert any("deliberate" in line for line in lines)
