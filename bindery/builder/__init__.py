"""The build: plan what is stale, read the book, make the outputs, write them all or none."""

from .outputs import FORMATS, OUTPUTS
from .pipeline import build
from .report import BuildReport, Output, Progress
from .request import BookletOverrides, BuildRequest

__all__ = ["FORMATS", "OUTPUTS", "build", "BuildReport", "Output", "Progress",
           "BookletOverrides", "BuildRequest"]
