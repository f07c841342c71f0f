"""Dubbing over HTTP: projects from scripts, generation jobs in the background, and their outputs.

:mod:`.projects` reads, creates and changes the project folders on disk,
:mod:`.jobs` is the API's view of the process's dubbing jobs (:mod:`studio.dubbing.jobs`), and
:mod:`.routes` serves both under ``/api/dubbing``.
"""

from .jobs import JobRegistry
from .routes import router

__all__ = ["JobRegistry", "router"]
