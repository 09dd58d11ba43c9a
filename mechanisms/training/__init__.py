"""Training learned mechanisms (outside the environment): data, misreport search, trainers."""
