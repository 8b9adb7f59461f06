"""Test support code for the envops.aws_secrets collection.

Nothing in here is part of the collection's public content; it is the harness
that the integration tests (and the benchmark / molecule scenarios) use to run
``ansible-playbook`` against a local moto server through a counting,
fault-injecting proxy.

Modules:

* :mod:`tests.support.moto` -- ``MotoServer``: a real ``moto_server`` subprocess, the one launcher of
  pytest, the benchmark, Molecule and the demo (``python -m tests.support.moto start/stop``).
* :mod:`tests.support.aws_proxy` -- ``AwsProxy``: counting / fault-injecting
  loopback reverse proxy in front of moto.
* :mod:`tests.support.playbook` -- ``run_playbook`` / ``PlaybookRun``.
* ``tests/support/callback_plugins/result_dump.py`` -- Ansible callback that
  dumps every task result as one JSON line.
"""
