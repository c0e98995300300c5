"""The team service's REST API (FastAPI): see :func:`inferplan.api.app.create_app`."""
