"""kmodel benchmarks: run with `python -m benchmarks` (results in benchmarks/results/)."""
