"""The compiled parts, each optional: where they cannot be built (no C compiler), kubevet
installs and runs the same, a little slower. kubevet.sources._jsonscan scans rapidyaml's
JSON; kubevet.sources._locate finds field lines (see each C file for why)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(name, [f"src/{name.replace('.', '/')}.c"], optional=True)
        for name in (
            "kubevet.sources._jsonscan",
            "kubevet.sources._locate",
            "kubevet.sources._treewalk",
        )
    ]
)
