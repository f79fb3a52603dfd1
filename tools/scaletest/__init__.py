"""The scale-out test on loopback (``make scale-test``; gongkai issue 17).

nginx balancing two gunicorn app servers that share one PostgreSQL and one Redis, two Huey
task workers, a bounded mixed load of signed-in users, and four faults one at a time under
that load: an app server killed, a task worker killed mid-task, Redis stopped, PostgreSQL
restarted. Every component is private to the run (a temporary directory, free loopback
ports) and stopped at the end, also on failure or Ctrl-C. The figures go to
``bench/results/scale-test.json`` and ``.md``; the exit status is nonzero when a write the
client saw succeed is missing or doubled, or errors happen outside a fault's window.

Run: ``.venv/bin/python -m tools.scaletest`` (``--help`` for the knobs).
"""
