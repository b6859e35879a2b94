"""``python -m byop.airflow``: the ``byop-airflow`` command."""

from byop.airflow._cli import main

raise SystemExit(main())
