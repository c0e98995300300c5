"""The executor seam: chunking, order, retries, errors, and identical planner answers."""

from __future__ import annotations

import os
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
import yaml

from inferplan.catalog.prices import load_prices, load_regions
from inferplan.errors import SpecError
from inferplan.executor import (
    ExecutorError,
    InProcessExecutor,
    ProcessExecutor,
    chunk_size_for,
    make_executor,
    split_chunks,
)
from inferplan.scenario_io import parse_scenario
from inferplan.tco import monte_carlo

from . import tasks

ROOT = Path(__file__).resolve().parents[2]


def test_chunk_size_gives_about_four_chunks_per_worker() -> None:
    # 200 draws on 2 workers: ceil(200 / (2 x 4)) = 25 per chunk -> 8 chunks
    assert chunk_size_for(200, 2) == 25
    assert len(split_chunks(list(range(200)), 25)) == 8
    # 10 items on 2 workers: ceil(10 / 8) = 2 per chunk -> 5 chunks, the last full
    assert split_chunks(list(range(10)), 2) == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    # 7 items in chunks of 3: 3 + 3 + 1
    assert [len(c) for c in split_chunks(list(range(7)), 3)] == [3, 3, 1]
    assert chunk_size_for(0, 4) == 1


def test_in_process_keeps_order() -> None:
    assert InProcessExecutor().map(tasks.square, [3, 1, 2]) == [9, 1, 4]


def test_process_pool_returns_results_in_item_order() -> None:
    with ProcessExecutor(workers=2) as ex:
        assert ex.map(tasks.square, list(range(20)), chunk_size=3) == [x * x for x in range(20)]
        pids = set(ex.map(tasks.worker_pid, list(range(8)), chunk_size=1))
    assert os.getpid() not in pids  # the work ran in the pool, not here


def test_process_pool_resubmits_the_chunks_of_a_killed_worker(tmp_path: Path) -> None:
    fn = partial(tasks.square_or_die_once, str(tmp_path))
    with ProcessExecutor(workers=2) as ex:
        got = ex.map(fn, list(range(12)), chunk_size=2)
        assert ex.restarts == 1  # one broken pool, replaced once
    assert (tmp_path / "died-at-5").exists()  # the worker really died once
    assert got == [x * x for x in range(12)]  # nothing lost, order kept


def test_process_pool_gives_up_after_max_retries() -> None:
    with ProcessExecutor(workers=1, max_retries=1) as ex, pytest.raises(ExecutorError) as err:
        ex.map(tasks.always_die, [1, 2])
    assert "max_retries 1" in str(err.value)


def test_process_pool_propagates_task_errors_without_retry() -> None:
    with ProcessExecutor(workers=2) as ex:
        with pytest.raises(SpecError, match="seven"):
            ex.map(tasks.reject_seven, list(range(10)), chunk_size=2)
        assert ex.restarts == 0


def test_make_executor_rejects_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SpecError) as err:
        make_executor("dask")
    assert err.value.field == "executor" and "inprocess, process, ray" in str(err.value)
    with pytest.raises(SpecError) as err:
        make_executor("process", ray_address="auto")
    assert err.value.field == "ray_address"
    with pytest.raises(SpecError) as err:
        make_executor("process", workers=0)
    assert err.value.field == "workers"
    import inferplan.executor as ex_mod

    monkeypatch.setattr(ex_mod, "ray_available", lambda: False)
    with pytest.raises(SpecError, match=r"pip install 'inferplan\[ray\]'"):
        make_executor("ray")


def _tco_scenario() -> object:
    return parse_scenario(yaml.safe_load((ROOT / "examples" / "tco_hybrid.yaml").read_text()))


def test_monte_carlo_is_identical_whatever_the_chunking() -> None:
    s = _tco_scenario()
    prices, regions = load_prices(), load_regions()
    ref = monte_carlo(s, prices, regions, draws=48, seed=11)  # type: ignore[arg-type]
    with ProcessExecutor(workers=2) as ex:
        pooled = monte_carlo(s, prices, regions, draws=48, seed=11, executor=ex)  # type: ignore[arg-type]
    assert pooled.model_dump_json() == ref.model_dump_json()
    other_seed = monte_carlo(s, prices, regions, draws=48, seed=12)  # type: ignore[arg-type]
    assert other_seed.model_dump_json() != ref.model_dump_json()  # the seed matters


def test_default_plan_never_imports_ray() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from inferplan.cli.main import app\n"
        "r = CliRunner().invoke(app, ['plan', '--json'])\n"
        "assert r.exit_code == 0, r.output\n"
        "print('ray' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def _default_scenario() -> object:
    from inferplan.cli.plan_cmd import default_scenario_text

    return parse_scenario(yaml.safe_load(default_scenario_text()))


def test_plan_on_a_process_pool_is_identical_to_in_process() -> None:
    from inferplan.planner.search import plan

    s = _default_scenario()
    ref = plan(s).model_dump_json()  # type: ignore[arg-type]
    with ProcessExecutor(workers=2) as ex:
        assert plan(s, executor=ex).model_dump_json() == ref  # type: ignore[arg-type]


def test_design_search_keeps_an_unpicklable_hook_in_process() -> None:
    from inferplan.planner.designs import find_designs
    from inferplan.planner.search import _accelerators

    s = _default_scenario()
    accs = _accelerators(s)  # type: ignore[arg-type]
    calls: list[str] = []

    def hook(d: object) -> None:  # a closure: pickle cannot ship it to a worker
        calls.append(type(d).__name__)

    ref = find_designs(s, accs, s.slo)  # type: ignore[arg-type, attr-defined]
    with ProcessExecutor(workers=2) as ex:
        got = find_designs(s, accs, s.slo, hook, ex)  # type: ignore[arg-type, attr-defined]
    assert calls  # the hook ran, here, in this process
    assert [d.label for d in got[0]] == [d.label for d in ref[0]]
    assert got[1] == ref[1]
