"""The systemd units in deploy/systemd: the commands they run exist, and systemd accepts the files.

`systemd-analyze verify` needs no running systemd. It reads the unit files (and finds their siblings
in the same directory), reports unknown sections and keys, values it cannot parse and executables
that are missing. It does not check that `User=` exists, nor that a unit named in `Wants=` or
`PartOf=` exists: `test_units_refer_to_each_other` does that.
"""

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import get_commands

UNITS_DIR = Path(__file__).resolve().parent.parent / "deploy" / "systemd"
UNIT_FILES = sorted(p for p in UNITS_DIR.iterdir() if p.suffix in {".service", ".timer", ".target"})
INSTALL_DIR = "/srv/clinic-portal"
TARGET = "clinic-portal.target"


def directives(unit: Path, key: str) -> list[str]:
    return [
        line.split("=", 1)[1].strip()
        for line in unit.read_text().splitlines()
        if line.split("=", 1)[0].strip() == key
    ]


def manage_commands() -> list[tuple[str, str]]:
    found = []
    for unit in UNIT_FILES:
        for command_line in directives(unit, "ExecStart"):
            match = re.search(r"(?:^|\s)manage\.py\s+(\S+)", command_line)
            if match:
                found.append((unit.name, match.group(1)))
    return found


def test_the_units_are_there():
    names = {unit.name for unit in UNIT_FILES}
    for name in ("web", "worker", "delivery", "purge", "backup"):
        assert f"clinic-portal-{name}.service" in names
    for name in ("delivery", "purge", "backup"):
        assert f"clinic-portal-{name}.timer" in names
    assert TARGET in names


@pytest.mark.parametrize(("unit", "command"), manage_commands(), ids=lambda value: value)
def test_every_management_command_a_unit_runs_exists(unit, command):
    assert command in get_commands(), f"{unit} runs `manage.py {command}`, which this project lacks"


def test_units_refer_to_each_other():
    """What `systemd-analyze verify` lets through: a misspelt unit name in Wants= or PartOf=."""
    names = {unit.name for unit in UNIT_FILES}
    target = UNITS_DIR / TARGET
    wanted = {name for value in directives(target, "Wants") for name in value.split()}
    timers = {name for name in names if name.endswith(".timer")}
    timer_driven = {name.removesuffix(".timer") + ".service" for name in timers}
    long_running = {name for name in names if name.endswith(".service")} - timer_driven
    assert wanted == long_running | timers
    assert timer_driven <= names, "a timer without its service"
    assert directives(target, "WantedBy") == ["multi-user.target"]
    for unit in UNIT_FILES:
        if unit.name != TARGET:
            assert directives(unit, "PartOf") == [TARGET], unit.name
    for unit in UNIT_FILES:
        if unit.suffix == ".service":
            assert directives(unit, "WorkingDirectory") == [INSTALL_DIR], unit.name
            for command_line in directives(unit, "ExecStart"):
                assert shlex.split(command_line)[0].startswith(f"{INSTALL_DIR}/.venv/bin/"), unit.name


@pytest.fixture
def systemd_analyze():
    path = shutil.which("systemd-analyze")
    if path is None:
        if os.environ.get("REQUIRE_SYSTEMD_ANALYZE"):
            pytest.fail("systemd-analyze is required (REQUIRE_SYSTEMD_ANALYZE is set) but not installed")
        pytest.skip("systemd-analyze is not installed")
    return path


def install(tmp_path) -> Path:
    """The units as installed, with the checkout in a temporary directory holding fake executables."""
    checkout = tmp_path / "checkout"
    bin_dir = checkout / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name in ("python", "gunicorn"):
        (bin_dir / name).write_text("#!/bin/sh\nexit 0\n")
        (bin_dir / name).chmod(0o755)
    units = tmp_path / "units"
    units.mkdir()
    for unit in UNIT_FILES:
        (units / unit.name).write_text(unit.read_text().replace(INSTALL_DIR, str(checkout)))
    return units


def verify(systemd_analyze: str, units: Path) -> subprocess.CompletedProcess:
    version = subprocess.run([systemd_analyze, "--version"], capture_output=True, text=True, check=True)
    command = [systemd_analyze, "verify", "--man=no"]
    if int(version.stdout.split()[1]) >= 250:
        # Judge only our units, not whatever units the host has installed (network-online.target …).
        command.append("--recursive-errors=no")
    command += [str(path) for path in sorted(units.iterdir())]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=60, env={**os.environ, "SYSTEMD_LOG_COLOR": "0"}
    )


def test_systemd_accepts_every_unit(systemd_analyze, tmp_path):
    result = verify(systemd_analyze, install(tmp_path))
    output = (result.stdout + result.stderr).strip()
    assert result.returncode == 0, output
    # Warnings (a deprecated key, a user name systemd only tolerates) do not change the exit status.
    assert output == ""


def test_systemd_analyze_does_catch_a_bad_directive(systemd_analyze, tmp_path):
    """The check above is not vacuous: a misspelt key fails it."""
    units = install(tmp_path)
    web = units / "clinic-portal-web.service"
    web.write_text(web.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    result = verify(systemd_analyze, units)
    assert result.returncode != 0
    assert "NoNewPrivilege" in result.stdout + result.stderr
