"""The build wing: running notebooks, publishing their outputs, the report and the benchmark.

It imports the analysis package (fbss_evidence); the analysis package never imports it.
"""
