"""Measuring answer quality (`python -m indexer eval`): metrics, the two question sets (cases), and the runs."""
