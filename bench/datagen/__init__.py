"""Synthetic data for benchmarks and load tests: `python manage.py generate_data --scale {small,region,national}`."""
