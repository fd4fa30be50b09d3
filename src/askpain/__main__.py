from askpain.cli import main

raise SystemExit(main())
