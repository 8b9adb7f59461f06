# -*- coding: utf-8 -*-
# Copyright: Contributors to the envops.aws_secrets collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test creates each sanity-test virtual environment without pip and then runs
``~/.ansible/test/cache/get_pip_<version>.py <pip options> pip==<version> --no-setuptools --no-wheel``.
The real script comes from ci-files.testing.ansible.com, which is not reachable here, and
ansible-test documents dropping a copy at that path. This stand-in does the same job as the real
get-pip.py: it imports the pip wheel bundled with the interpreter's ``ensurepip`` and uses it to
``pip install`` the requested pip version from the configured package index.

`make sanity` copies this file into the (project-local) ansible-test cache directory.
"""

from __future__ import absolute_import, division, print_function

import glob
import os
import sys

__metaclass__ = type


def main():
    import ensurepip

    bundled = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl")))
    if not bundled:
        sys.exit("ensurepip has no bundled pip wheel; cannot bootstrap pip offline")
    sys.path.insert(0, bundled[-1])

    args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]

    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    sys.exit(pip_main(["install", "--no-cache-dir"] + args))


if __name__ == "__main__":
    main()
