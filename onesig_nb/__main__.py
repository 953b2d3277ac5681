from onesig_nb.cli import main

raise SystemExit(main())
