"""The team service's REST API (FastAPI).

The application is assembled by :func:`inferplan.server.create_app`.
"""
