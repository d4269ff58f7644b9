"""Settings for the whole suite: property tests judged by their examples, never by how busy the machine is."""

from hypothesis import HealthCheck, settings

# Hypothesis' default 200 ms deadline and its too_slow health check fail a sound test on a loaded machine.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# make mutation picks this one (--hypothesis-profile=mutation): the same examples for every mutant and every run,
# and no example database carried from one mutant to the next, so a score does not depend on the order of runs.
settings.register_profile("mutation", parent=settings.get_profile("suite"), derandomize=True, database=None)
settings.load_profile("suite")
