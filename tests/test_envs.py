"""The conda env files mirror the one place dependencies are pinned: pyproject.toml."""

import tomllib

import yaml

from conftest import ROOT


def test_envs_mirror_pyproject_pins():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert all("==" in d for d in deps), "pin every dependency exactly"
    for env_file in sorted((ROOT / "envs").glob("*.yaml")):
        env = yaml.safe_load(env_file.read_text())
        pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
        assert sorted(pip) == sorted(deps), env_file.name
