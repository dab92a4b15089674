"""The one compiled part: kubevet.sources._jsonscan (see its C file for why). Optional: where
it cannot be built (no C compiler), kubevet installs and runs the same, a little slower."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "kubevet.sources._jsonscan",
            ["src/kubevet/sources/_jsonscan.c"],
            optional=True,
        )
    ]
)
