"""Settings for the whole suite: property tests judged by their examples, never by how busy the machine is."""

from hypothesis import HealthCheck, settings

# Hypothesis' default 200 ms deadline and its too_slow health check fail a sound test on a loaded machine.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")
