import subprocess
import sys

from kernelpilot.cli import AREAS, main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernelpilot", *args], capture_output=True, text=True)


def test_every_area_has_help():
    for area in AREAS:
        result = run_cli(area, "--help")
        assert result.returncode == 0, (area, result.stderr)
        assert area in result.stdout


def test_unknown_area_is_one_line_and_nonzero():
    result = run_cli("no-such-area")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "invalid choice" in result.stderr
    assert "Traceback" not in result.stderr


def test_main_returns_code_without_exiting(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "kernelpilot" in capsys.readouterr().out
