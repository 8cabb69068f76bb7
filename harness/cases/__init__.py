"""What is tested: image sets, a project's declarations, the case record and the defaults."""
