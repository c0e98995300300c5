# Convenience targets; the quick-start commands themselves need only Python 3.11:
#   python3 scripts/dev.py run    and    python3 scripts/dev.py test
.PHONY: run test test-fast clean

run:
	python3 scripts/dev.py run

test:
	python3 scripts/dev.py test

test-fast:
	python3 scripts/dev.py test --fast

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache
