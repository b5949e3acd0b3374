"""Development tools that production does not run, kept out of the wheel
(`[tool.hatch.build.targets.wheel] packages`) but importable from a checkout (`uv sync`):

* `cdp_dev.generate`: the synthetic raw-folder generator behind `cdp generate` (the demo
  `seeds/`, the generated test and benchmark folders);
* `cdp_dev.reference`: the reference identity resolver in plain Python, the executable
  specification the identity tests and benchmarks compare the SQL against.
"""
