"""The pieces the benchmark scripts in scripts/bench share: the repository, private processes, Redis."""
