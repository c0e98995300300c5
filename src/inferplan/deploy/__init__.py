"""Deployments composed from catalog ids, below every use case.

:mod:`~inferplan.deploy.deployment` resolves catalog ids into a
:class:`~inferplan.deploy.deployment.Deployment` and derives its memory fit,
step-time model and scheduler limits; :mod:`~inferplan.deploy.layout` lays devices
out into replicas; :mod:`~inferplan.deploy.speculation` sizes a drafter beside the
replica and :mod:`~inferplan.deploy.disaggregation` its prefill and decode pools;
:mod:`~inferplan.deploy.uncertainty` turns a prediction into an interval from the
validation residuals. The planner and the use-case layer
(:mod:`inferplan.service`) both build on these; they import nothing above the core
and the catalogs.
"""
