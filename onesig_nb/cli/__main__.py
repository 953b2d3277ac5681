"""``python -m onesig_nb.cli``: the same as the ``onesig-nb`` command."""

from onesig_nb.cli import main

raise SystemExit(main())
