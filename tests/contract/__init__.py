"""Contract suites: ports/ proves every adapter of each port alike; http/ is the one black-box HTTP suite."""
