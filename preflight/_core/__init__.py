"""The pure core: sizes, names and header facts in, decisions out.

It owns the tables of models, tiers, surfaces and prices (with their
sources), the resize and token arithmetic, Options and the per-call
settings (CheckSettings, PrepareSettings), the API's rules and the findings
they yield, the finding catalogue and selection, whole request bodies
(check_request), reading an API error back into a finding (explain),
estimates, cost, vectorized cost planning, preflight's own budgets, and the
sans-I/O header parser.

No module here reads files, opens the network or imports an image library;
numpy is imported only inside the vectorized paths, when they are called.
It may import preflight.errors and preflight._version, and nothing above it
(the import-linter contracts in pyproject.toml hold this).
"""
