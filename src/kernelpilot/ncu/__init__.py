"""Nsight Compute: capture reports with the profiling recipe, read every export format, diagnose one next edit."""
