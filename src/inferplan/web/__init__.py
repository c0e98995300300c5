"""The web UI: server-rendered pages (Jinja2) with small scripts, served by the API app."""
