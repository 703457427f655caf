"""``redline serve``: write, run, read and compare scenarios in a browser.

A FastAPI application (:func:`create_app`) whose pages and JSON API call the same library
functions as the command line; pages are server-rendered Jinja2 templates with a small script
of their own and plotly.js from the installed plotly package (no build step, no network)."""

from redline.web.app import create_app
from redline.web.settings import Settings

__all__ = ["Settings", "create_app"]
