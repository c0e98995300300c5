"""The Ray executor on a local Ray runtime started here (2 CPUs, no dashboard).

Skipped only when Ray is not installed (``pip install 'inferplan[ray]'``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.errors import SpecError
from inferplan.executor import RayExecutor
from inferplan.scenario_io import parse_scenario
from inferplan.tco import monte_carlo, tornado

from . import tasks

ray = pytest.importorskip("ray")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ray_runtime() -> Iterator[Any]:
    # the test helpers are shipped by value: Ray's workers do not have tests/ on their path
    ray.cloudpickle.register_pickle_by_value(sys.modules[tasks.__name__])
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_map_keeps_item_order(ray_runtime: Any) -> None:
    ex = RayExecutor()
    assert ex.workers == 2  # the runtime's CPUs
    assert ex.map(tasks.square, list(range(30)), chunk_size=4) == [x * x for x in range(30)]
    ex.close()
    assert ray.is_initialized()  # a runtime it did not start is left running


def test_ray_retries_a_task_whose_worker_was_killed(ray_runtime: Any, tmp_path: Path) -> None:
    fn = partial(tasks.square_or_die_once, str(tmp_path))
    got = RayExecutor(max_retries=2).map(fn, list(range(12)), chunk_size=3)
    assert (tmp_path / "died-at-5").exists()  # the worker process really died once
    assert got == [x * x for x in range(12)]  # the chunk was re-executed, nothing lost


def test_ray_task_errors_keep_their_type(ray_runtime: Any) -> None:
    with pytest.raises(SpecError, match="seven"):
        RayExecutor().map(tasks.reject_seven, list(range(10)), chunk_size=5)


def test_ray_tornado_and_monte_carlo_equal_in_process(ray_runtime: Any) -> None:
    s = parse_scenario(yaml.safe_load((ROOT / "examples" / "tco_hybrid.yaml").read_text()))
    prices, regions = load_prices(), load_regions()
    ex = RayExecutor()
    mc = monte_carlo(s, prices, regions, draws=40, seed=5)
    assert monte_carlo(s, prices, regions, draws=40, seed=5, executor=ex) == mc
    bars = tornado(s, prices, regions)
    assert tornado(s, prices, regions, executor=ex) == bars


def test_ray_plan_and_portfolio_equal_in_process(ray_runtime: Any) -> None:
    from inferplan.planner.portfolio import load_portfolio, plan_portfolio
    from inferplan.planner.search import plan

    items = load_portfolio(
        [
            ROOT / "examples/portfolio/eu-support-bot.yaml",
            ROOT / "examples/portfolio/eu-assistant.yaml",
        ]
    )
    ex = RayExecutor()
    ref = plan_portfolio(items)
    got = plan_portfolio(items, ex)
    assert got.model_dump_json() == ref.model_dump_json()
    one = items[0][1]
    assert plan(one, executor=ex).model_dump_json() == ref.plans["eu-support-bot"].model_dump_json()
