"""`cdp generate`: a synthetic raw folder in the raw input contract, with ground truth.

The simulated world is a shop with web and app tracking (Segment spec), a B2B CRM,
consent and deletion requests, dirty on purpose and with identity traps designed in,
so that ingestion, quality checks and identity resolution have something real to chew on.
"""

from cdp_dev.generate.build import DEFAULT_END_DATE, GenerationSummary, generate_raw_folder

__all__ = ["DEFAULT_END_DATE", "GenerationSummary", "generate_raw_folder"]
