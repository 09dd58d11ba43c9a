"""The command line: exit codes, one-line errors without tracebacks, --help everywhere."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from auction_env.cli import main


def test_run_prints_summary_and_writes_files(tmp_path, capsys):
    """`run` exits 0, prints the summary table and writes summary.json."""
    code = main(
        ["run", "quickstart", "--out", str(tmp_path), "--episodes", "20", "--regret-profiles", "8", "--no-progress"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "revenue" in out and "regretnet" in out and "regret " in out
    assert json.loads((tmp_path / "summary.json").read_text())["rounds"] == 2000


def test_validate_all_shipped(capsys):
    """`validate` accepts every shipped scenario."""
    from auction_env.catalog import shipped_scenarios

    assert main(["validate", *shipped_scenarios()]) == 0
    assert capsys.readouterr().out.count("ok ") == len(shipped_scenarios())


def test_list_shows_registries(capsys):
    """`list` names mechanisms, agents and scenarios."""
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("myerson", "second_price", "first_price", "truthful", "shading", "quickstart", "sealed_bid_v0"):
        assert word in out


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["run", "nope.yaml"], "scenario not found"),
        (["run", "quickstart", "--device", "cuda:7"], "--device"),
        (["validate", "quickstart", "missing.yaml"], "missing.yaml"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, expected, capsys):
    """Bad input: exit code 2 and a single readable line on stderr."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert expected in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_bad_yaml_key_exits_2_naming_file_and_key(tmp_path, capsys):
    """A typo in a YAML key fails with the file, the dotted path and a suggestion."""
    path = tmp_path / "typo.yaml"
    path.write_text("env:\n  n_bidder: 2\n")
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: env.n_bidder: unknown key. Did you mean 'n_bidders'?" in err


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"], ["validate", "--help"], ["list", "--help"]])
def test_help_exits_0(argv, capsys):
    """Every command has --help."""
    assert main(argv) == 0
    assert "usage:" in capsys.readouterr().out


def test_argparse_errors_exit_2(capsys):
    """Unknown commands and bad option values exit 2."""
    assert main(["frobnicate"]) == 2
    assert main(["run", "quickstart", "--episodes", "0"]) == 2


@pytest.mark.slow
def test_python_dash_m_entry_point(tmp_path):
    """`python -m auction_env` is the CLI, with the same exit codes."""
    ok = subprocess.run([sys.executable, "-m", "auction_env", "list", "mechanisms"], capture_output=True, text=True)
    bad = subprocess.run([sys.executable, "-m", "auction_env", "run", "nope"], capture_output=True, text=True)
    assert ok.returncode == 0 and "myerson" in ok.stdout
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
